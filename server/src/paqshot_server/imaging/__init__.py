"""Pure image work: decode/validate, cut-out, layout, backgrounds, shadows, scenes, encode.

Never imports litestar, huey, sqlite-utils or the storage/api/jobs packages.
"""
