"""The front door holds: every link in the README, docs/ and the results pages leads to a file
of the checkout, and the committed results stay light enough to clone."""
import glob
import os
import re
import subprocess

import pytest

from conftest import ROOT

PAGES = (["README.md"] + glob.glob("docs/*.md", root_dir=ROOT)
         + glob.glob("results/*.md", root_dir=ROOT)
         + glob.glob("results/*/*/README.md", root_dir=ROOT) + glob.glob("results/gpu/*.md",
                                                                          root_dir=ROOT))


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_local_link_resolves(page):
    with open(os.path.join(ROOT, page)) as f:
        links = re.findall(r"\]\(([^)#\s]+)", f.read())
    missing = [link for link in links if not link.startswith(("http://", "https://"))
               and not os.path.exists(os.path.join(ROOT, os.path.dirname(page), link))]
    assert missing == []


def test_committed_results_stay_under_25_mb():
    listed = subprocess.run(["git", "ls-files", "-z", "results"], cwd=ROOT, capture_output=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: nothing committed to measure")
    paths = [path for path in listed.stdout.decode().split("\0") if path]
    size = sum(os.path.getsize(os.path.join(ROOT, path)) for path in paths
               if os.path.exists(os.path.join(ROOT, path)))
    assert len(paths) > 100 and size <= 25e6, f"{size / 1e6:.1f} MB in {len(paths)} files"


def test_the_readme_stays_a_front_door():
    """At most 160 lines (issue 39): what this is, how to run it, where to read more."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        assert len(f.read().splitlines()) <= 160
