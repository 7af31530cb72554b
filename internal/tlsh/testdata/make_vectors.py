#!/usr/bin/python3
"""Regenerates the TLSH test vectors in this folder.

Writes the input files (deterministic: seeded pseudo-random text and
bytes), then asks the reference implementation for their digests, both
through the command-line tool (/usr/bin/tlsh, Debian package tlsh-tools)
and the Python module (python3-tlsh), and checks that the two agree:

  vectors.tsv    file, digest ("-" when the reference gives none)
  distances.tsv  file a, file b, diff, diffxlen for every pair

Run from this folder: /usr/bin/python3 make_vectors.py
"""
import itertools
import random
import subprocess

import tlsh

WORDS = ("account verify password invoice payment urgent click link bank "
         "security update please your the and to of a in for is on with "
         "meeting calendar attached document review sign today").split()


def text(rng, n):
    out = []
    size = 0
    while size < n:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)[:n].encode()


def edit(rng, data, k):
    b = bytearray(data)
    for _ in range(k):
        b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def files():
    rng = random.Random(20131021)
    words = text(rng, 3000)
    yield "text_words.txt", words
    yield "text_words_edit.txt", edit(rng, words, 40)
    log = "".join("2026-11-%02d 10:%02d:%02d host%d sshd[%d]: Failed password for user%d from 192.0.2.%d\n"
                  % (rng.randrange(1, 29), rng.randrange(60), rng.randrange(60), rng.randrange(4),
                     rng.randrange(1000, 9999), rng.randrange(50), rng.randrange(256))
                  for _ in range(80)).encode()
    yield "text_log.txt", log
    html = ("<html><head><title>Invoice</title></head><body>\n" +
            "".join('<p>Dear customer, please <a href="https://example.com/pay?id=%d">pay invoice %d</a> today.</p>\n'
                    % (rng.randrange(10**6), i) for i in range(40)) +
            "</body></html>\n").encode()
    yield "text_html.html", html
    yield "text_html_edit.html", html.replace(b"Dear customer", b"Dear client!!")
    binary = bytes(rng.randrange(256) for _ in range(4096))
    yield "bin_random.bin", binary
    yield "bin_random_edit.bin", edit(rng, binary, 200)
    structured = b"".join(i.to_bytes(4, "little") + bytes([i % 7, 0, 0, 0xFF]) for i in range(700))
    yield "bin_structured.bin", structured
    yield "bin_256.bin", bytes(rng.randrange(256) for _ in range(256))
    yield "bin_257.bin", bytes(rng.randrange(256) for _ in range(257))
    yield "bin_656.bin", bytes(rng.randrange(256) for _ in range(656))
    yield "bin_657.bin", bytes(rng.randrange(256) for _ in range(657))
    yield "uniform_a.bin", b"A" * 1000
    yield "repeat_ab.bin", b"ab" * 1000


def main():
    names = []
    for name, data in files():
        with open(name, "wb") as f:
            f.write(data)
        names.append(name)
    digests = {}
    with open("vectors.tsv", "w") as out:
        out.write("# file\tdigest (reference tlsh 3.4.4, 128 buckets, 1-byte checksum; - = none)\n")
        for name in names:
            py = tlsh.hash(open(name, "rb").read())
            cli = subprocess.run(["/usr/bin/tlsh", "-f", name], capture_output=True, text=True).stdout.split("\t")[0].strip()
            if py and py != cli:
                raise SystemExit("%s: python %s, tlsh %s" % (name, py, cli))
            digests[name] = py
            out.write("%s\t%s\n" % (name, py or "-"))
    with open("distances.tsv", "w") as out:
        out.write("# file a\tfile b\tdiff\tdiffxlen\n")
        valid = [n for n in names if digests[n]]
        for a, b in itertools.combinations(valid, 2):
            d = tlsh.diff(digests[a], digests[b])
            x = tlsh.diffxlen(digests[a], digests[b])
            cli = subprocess.run(["/usr/bin/tlsh", "-c", digests[a], "-d", digests[b]],
                                 capture_output=True, text=True).stdout.split("\t")[0].strip()
            if cli != str(d):
                raise SystemExit("%s %s: python %d, tlsh %s" % (a, b, d, cli))
            out.write("%s\t%s\t%d\t%d\n" % (a, b, d, x))


if __name__ == "__main__":
    main()
