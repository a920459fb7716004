"""Finish an exported model folder so that ``<cli> models install FOLDER`` accepts it.

    python models/export/finalize.py --catalogue models/catalogue/sdxl-inpainting-0.1.toml OUT_DIR

- adds ``tokenizer.json`` to every ``tokenizer*/`` folder (the runtime reads it with the ``tokenizers``
  package; optimum writes only the slow-tokenizer files) — needs ``transformers`` (the export venv);
- writes ``OUT_DIR/manifest.toml``: the catalogue entry (licence, contract, scheduler defaults) plus the
  sha256 and size of every file in the folder.

The manifest format is defined once, in ``paqshot_server.inference.manifests`` (stdlib only), which this
script imports from the source tree.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "server" / "src"))

from paqshot_server.inference.manifests import MANIFEST_NAME, Manifest, scan_files  # noqa: E402


def write_tokenizer_json(tok_dir: Path) -> None:
    """Convert the slow CLIP tokenizer files in ``tok_dir`` into a fast ``tokenizer.json``."""
    if (tok_dir / "tokenizer.json").is_file():
        return
    from transformers import CLIPTokenizerFast

    fast = CLIPTokenizerFast.from_pretrained(str(tok_dir))
    fast.backend_tokenizer.save(str(tok_dir / "tokenizer.json"))


def finalize_folder(folder: Path, catalogue: dict[str, Any]) -> Manifest:
    """Write ``folder/manifest.toml`` from a catalogue dict plus the folder's files; return it."""
    data = {k: v for k, v in catalogue.items() if k not in ("files", "checksums")}
    manifest = Manifest.from_dict(data, where=str(folder))
    manifest = Manifest.from_dict({**manifest.to_dict(), "files": []}, where=str(folder))
    files = scan_files(folder)
    final = Manifest.from_dict(
        {**manifest.to_dict(), "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in files]},
        where=str(folder),
    )
    (folder / MANIFEST_NAME).write_text(final.dumps(), encoding="utf-8")
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write tokenizer.json files and manifest.toml for an export.")
    parser.add_argument("--catalogue", type=Path, required=True, help="models/catalogue/<id>.toml")
    parser.add_argument("folder", type=Path, help="the exported folder (optimum-cli export onnx output)")
    parser.add_argument("--no-tokenizer", action="store_true", help="do not write tokenizer.json files")
    args = parser.parse_args(argv)
    if not args.no_tokenizer:
        for tok_dir in sorted(args.folder.glob("tokenizer*")):
            if tok_dir.is_dir():
                write_tokenizer_json(tok_dir)
    catalogue = tomllib.loads(args.catalogue.read_text(encoding="utf-8"))
    manifest = finalize_folder(args.folder, catalogue)
    print(f"wrote {args.folder / MANIFEST_NAME}: {len(manifest.files)} files, {manifest.total_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
