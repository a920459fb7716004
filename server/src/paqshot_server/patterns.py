"""Regular-expression pieces that Python's ``re`` (msgspec's validator) and ECMA-262 (the served JSON Schema)
read alike, so a pattern means the same in the schema and in the server.

Python's ``$`` also matches before a final newline and ECMA's does not: "white\\n" passed msgspec while the
schema refused it. Every whole-text pattern ends with :data:`END` instead.
"""

END = r"(?![\s\S])"  # the end of the text, in both dialects
