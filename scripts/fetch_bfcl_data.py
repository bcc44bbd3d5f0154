"""Set-up step: take the BFCL function-calling data (Apache-2.0) out of the bfcl-eval wheel.

The wheel's declared dependencies are very heavy, so only the wheel itself is downloaded
(no dependencies) and only its data files are kept, in ``<venv>/share/bfcl``.
"""

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

VERSION = "2026.3.23"
TARGET = Path(sys.prefix) / "share" / "bfcl"


def main() -> None:
    """Download the wheel without dependencies and extract its JSON data."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--disable-pip-version-check",
                f"bfcl-eval=={VERSION}",
                "-d",
                folder,
            ],
            check=True,
        )
        [wheel] = Path(folder).glob("bfcl_eval-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith("bfcl_eval/data/") and name.endswith(".json"):
                    destination = TARGET / name.removeprefix("bfcl_eval/data/")
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    destination.write_bytes(archive.read(name))
    print(f"BFCL data in {TARGET}")


if __name__ == "__main__":
    main()
