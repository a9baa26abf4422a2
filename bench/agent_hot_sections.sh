#!/usr/bin/env bash
# Regenerates agent/hot_sections.txt: the code sections steadfast-agent runs, start-up and
# steady state, which the release link places together at the front of the agent's text
# (gold's --section-ordering-file; agent/CMakeLists.txt). The kernel maps a binary's code in
# 64 KiB windows around each page touched, so code that runs, spread over the whole binary,
# makes most of it resident; gathered, only its own windows are (bench/agent_cycle.sh shows the
# agent's VmRSS before and after).
#
#   bench/agent_hot_sections.sh [BIN_DIR]     BIN_DIR: the release build (default build/release)
#
# Runs bench/agent_cycle.sh (collector, node_exporter, the quickstart agent with every local
# check) for CYCLES cycles with the agent under valgrind's callgrind, then lists every function
# of the agent's binary that ran, as the sections -ffunction-sections gives it. Functions of
# the static archives built without function sections (SQLite, zstd, yaml-cpp) cannot be
# placed one by one and are left where they are. A stale list costs memory, never
# correctness: sections it names that no longer exist are ignored, new ones land after it.
# Needs valgrind. Environment: CYCLES (default 5), INTERVAL (default 4).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/build/release}" && pwd)
out="$root/agent/hot_sections.txt"
command -v valgrind > /dev/null || { echo "agent_hot_sections: valgrind is needed" >&2; exit 1; }

tmp=$(mktemp -d /tmp/sf-hot-sections.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin/agent" "$tmp/bin/collector"
ln -s "$bin/collector/steadfast-collector" "$tmp/bin/collector/steadfast-collector"
cat > "$tmp/bin/agent/steadfast-agent" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --callgrind-out-file=$tmp/callgrind.out \\
  "$bin/agent/steadfast-agent" "\$@"
EOF
chmod +x "$tmp/bin/agent/steadfast-agent"

echo "agent_hot_sections: running the agent under callgrind (slow: about a minute)"
CYCLES=${CYCLES:-5} INTERVAL=${INTERVAL:-4} bash "$root/bench/agent_cycle.sh" "$tmp/bin" > "$tmp/cycle.log" 2>&1 ||
  { cat "$tmp/cycle.log" >&2; exit 1; }
# callgrind writes its profile when the agent exits (agent_cycle.sh stops it at the end).
for _ in $(seq 1 50); do [ -s "$tmp/callgrind.out" ] && break; sleep 0.2; done
[ -s "$tmp/callgrind.out" ] || { echo "agent_hot_sections: no profile written" >&2; exit 1; }

# Functions that ran, in the agent's own object (ob=), by symbol name. callgrind names an object
# or function in full once, then by its (id) alone.
python3 - "$tmp/callgrind.out" "$bin/agent/steadfast-agent" "$out" <<'PY'
import glob, os, re, subprocess, sys

profile, binary, out = sys.argv[1:4]
objects, functions = {}, {}
ran = set()
current_ob = None
name_re = re.compile(r'^\((\d+)\)(?: (.*))?$')

def resolve(table, text):
    m = name_re.match(text)
    if not m:
        return text
    if m.group(2) is not None:
        table[m.group(1)] = m.group(2)
    return table.get(m.group(1), '')

with open(profile, errors='replace') as f:
    for line in f:
        if line.startswith('ob='):
            current_ob = resolve(objects, line[3:].strip())
        elif line.startswith('cob='):
            resolve(objects, line[4:].strip())
        elif line.startswith('fn='):
            name = resolve(functions, line[3:].strip())
            if current_ob and current_ob.endswith('/steadfast-agent'):
                ran.add(name)
        elif line.startswith('cfn='):
            resolve(functions, line[4:].strip())

# Each function's input section, from the objects the agent is linked from (a constructor's C1
# symbol, say, lives in the section named after its C2 twin).
section_of = {}
objects_dir = os.path.dirname(os.path.dirname(binary))
inputs = [os.path.join(objects_dir, 'agent', 'libsteadfast_agent.a'),
          os.path.join(objects_dir, 'common', 'libsteadfast_common.a')]
inputs += glob.glob(os.path.join(objects_dir, 'agent', 'CMakeFiles', 'steadfast-agent.dir', '**', '*.o'),
                    recursive=True)
inputs += glob.glob('/usr/lib/gcc/x86_64-linux-gnu/*/libstdc++.a')[:1]
for path in inputs:
    table = subprocess.run(['objdump', '-t', path], capture_output=True, text=True).stdout
    for line in table.splitlines():
        # address, flags, section, size, [.hidden|.protected], name
        parts = line.split()
        if ' F ' not in line or len(parts) < 5:
            continue
        sec = next((p for p in parts[1:-1] if p.startswith('.text')), None)
        if sec:
            section_of.setdefault(parts[-1], sec)
sections = []
seen = set()
for n in sorted(re.sub(r"'\d+$", '', n) for n in ran):
    sec = section_of.get(n)
    if sec and sec != '.text' and sec not in seen:
        seen.add(sec)
        sections.append(sec)
with open(out, 'w') as f:
    for sec in sections:
        f.write(sec + '\n')
print(f'agent_hot_sections: {len(ran)} functions ran; {len(sections)} sections; wrote {out}')
PY
