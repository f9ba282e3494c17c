#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# daemon_kill.sh's judge of the definitions a killed daemon left: compares the files under
# CONF_DIR/null with what the traffic generators recorded in STATE_DIR (one file per UUID:
# "defining S", "defined S", "modifying S1 S2", "undefining", "undefined"; S is the start
# policy, auto or manual). An acknowledged definition must be there, complete, with its
# policy; one in flight may be there or not (a modify: either policy), never torn; an
# acknowledged undefine must have removed it; every definition file must parse. Prints one
# line per problem and exits 1 if there is any; prints the UUIDs whose definition is auto on
# the last line as "auto: U1 U2 ...", and the hidden files as "hidden: N". With --resolve
# (and no problem), the state records are rewritten to what was found: "defined S" for a
# definition that is there, no record for one that is not.
import json
import os
import sys

resolve = "--resolve" in sys.argv[1:]
conf, state_dir = [a for a in sys.argv[1:] if a != "--resolve"]
null_dir = os.path.join(conf, "null")
problems = []
files = {}
hidden = 0
if os.path.isdir(null_dir):
    for name in os.listdir(null_dir):
        if name.startswith("."):
            hidden += 1
            continue
        path = os.path.join(null_dir, name)
        try:
            with open(path) as f:
                d = json.load(f)
            if d.get("mdev_type") != "null-1" or d.get("start") not in ("auto", "manual"):
                problems.append(f"{name}: unexpected content {d!r}")
            files[name] = d.get("start")
        except (OSError, ValueError) as e:
            problems.append(f"{name}: does not parse ({e})")
            files[name] = None

for uuid in sorted(os.listdir(state_dir)):
    with open(os.path.join(state_dir, uuid)) as f:
        words = f.read().split()
    have = files.get(uuid, "absent") if uuid in files else "absent"
    what = words[0] if words else ""
    if what == "defined":
        allowed = {words[1]}
    elif what == "defining":
        allowed = {words[1], "absent"}
    elif what == "modifying":
        allowed = {words[1], words[2]}
    elif what == "undefining":
        allowed = {"auto", "manual", "absent"}
    elif what == "undefined":
        allowed = {"absent"}
    else:
        problems.append(f"{uuid}: bad state record {words!r}")
        continue
    if have not in allowed:
        problems.append(f"{uuid}: recorded '{' '.join(words)}', found {have}")

if resolve and not problems:
    for uuid in os.listdir(state_dir):
        if uuid in files:
            with open(os.path.join(state_dir, uuid), "w") as f:
                f.write(f"defined {files[uuid]}\n")
        else:
            os.unlink(os.path.join(state_dir, uuid))

for p in problems:
    print(p)
print("hidden:", hidden)
print("auto:", " ".join(sorted(u for u, s in files.items() if s == "auto")))
sys.exit(1 if problems else 0)
