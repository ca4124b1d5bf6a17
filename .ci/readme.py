"""Render nbs/index.ipynb to README.md (Quarto's nbdev_readme is not available offline) or check that they agree.

python .ci/readme.py          # write README.md
python .ci/readme.py --check  # exit 1 if README.md differs from the rendering or lacks the two commands
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_CMD = 'pip install torch==2.13.0 && pip install -e . && sc-integrate demo --out sc_integrate_demo'
TEST_CMD = 'pip install torch==2.13.0 && pip install -e ".[dev]" && SC_INTEGRATE_DATA="$PWD/../shared/data" nbdev_test --n_workers 2 --timing'


def render() -> str:
    nb = json.loads((ROOT / "nbs" / "index.ipynb").read_text())
    out = ["<!-- generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, then run `python .ci/readme.py` -->", ""]
    for cell in nb["cells"]:
        src = "".join(cell["source"]).strip("\n")
        if cell["cell_type"] == "markdown":
            src = re.sub(r"^> (.*)$", r"*\1*", src, flags=re.M) if src.startswith("# ") else src
            out += [src, ""]
        elif cell["cell_type"] == "code":
            lines = src.splitlines()
            if any(l.strip() in ("#| hide", "#|hide") for l in lines): continue
            code = "\n".join(l for l in lines if not l.startswith("#|")).replace("ci_size(200, 2)", "200")
            out += ["```python", code, "```", ""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        ok = True
        if (ROOT / "README.md").read_text() != text:
            print("README.md is out of sync with nbs/index.ipynb: run `python .ci/readme.py`."); ok = False
        for c in (DEMO_CMD, TEST_CMD):
            if c not in text: print(f"README.md lacks the command: {c}"); ok = False
        sys.exit(0 if ok else 1)
    (ROOT / "README.md").write_text(text)
