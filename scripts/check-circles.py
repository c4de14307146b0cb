#!/usr/bin/env python3
"""Report circles among the files of src/: a.c -> b.c when a.c calls a
function that b.c defines (external functions only), and a.h -> b.h when a
header includes another.  Prints each strongly connected group of more than
one file; exits 1 when there is any.  Usage: scripts/check-circles.py [src]"""
import os, re, sys

root = sys.argv[1] if len(sys.argv) > 1 else 'src'
files = []
for d, _, names in os.walk(root):
    files += [os.path.join(d, n) for n in names if n.endswith(('.c', '.h'))]

def strip(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)

defined, calls, includes = {}, {}, {}
define_re = re.compile(r'^(?!static\b)[A-Za-z_][\w \*]*?\b([a-z_]\w*)\s*\([^;{]*\)\s*\{', re.M)
for f in files:
    text = strip(open(f, encoding='utf-8', errors='replace').read())
    includes[f] = set(re.findall(r'#include\s+"([^"]+)"', open(f, errors='replace').read()))
    if f.endswith('.c'):
        for name in define_re.findall(text):
            defined.setdefault(name, f)
        calls[f] = set(re.findall(r'\b([a-z_]\w*)\s*\(', text))

graph = {f: set() for f in files}
for f, names in calls.items():
    for n in names:
        g = defined.get(n)
        if g is not None and g != f:
            graph[f].add(g)
by_inc = {os.path.relpath(f, root): f for f in files}
for f, incs in includes.items():
    if f.endswith('.h'):
        for i in incs:
            if i in by_inc and by_inc[i] != f:
                graph[f].add(by_inc[i])

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))
for v in sorted(graph):
    if v not in index:
        visit(v)
for c in sccs:
    print('circle: ' + ' <-> '.join(c))
    for a in c:
        for b in sorted(graph[a] & set(c)):
            why = sorted(n for n in calls.get(a, ()) if defined.get(n) == b)[:4]
            print('   %s -> %s %s' % (a, b, ', '.join(why)))
sys.exit(1 if sccs else 0)
