"""Times trafilatura's extract() over HTML files in process, one page after another.

Usage: python trafilatura_speed.py REPEAT FILE...  Reads every file first, then extracts each
one REPEAT times and prints "pages seconds pages_per_second" (one line) for scripts/peers.sh.
"""

import sys
import time

import trafilatura


def main() -> None:
    repeat = int(sys.argv[1])
    pages = []
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            pages.append(f.read().decode("utf-8", errors="replace"))
    done = failed = chars = 0
    started = time.perf_counter()
    for _ in range(repeat):
        for html in pages:
            text = trafilatura.extract(html)
            if text is None:
                failed += 1
            else:
                chars += len(text)
            done += 1
    seconds = time.perf_counter() - started
    print(f"trafilatura: {done} pages, {failed} without an article, {chars} chars of text", file=sys.stderr)
    print(f"{done} {seconds:.3f} {done / seconds:.1f}")


if __name__ == "__main__":
    main()
