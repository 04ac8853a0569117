#!/usr/bin/env bash
# End-to-end test of `lfosa label` driven through tmux, as a person over SSH would use it.
#
# usage: Tests/e2e/tui_label_e2e.sh PATH/TO/lfosa
#
# 1. Generates a small image folder (stdlib Python: 14 PNGs each of circle/, square/, other/).
# 2. Starts `lfosa label` in a detached 120x40 tmux session, labels three images, undoes one,
#    relabels it, checks the screen after every key, quits with q, and checks the label store
#    through `lfosa status --json` and `lfosa export`.
# 3. Resumes, labels two more, kills the process with SIGKILL mid-batch, resumes again and
#    checks that every earlier label is there and the rest of the batch is offered; a resize to
#    a tiny window shows the too-small notice; SIGHUP (a dropped SSH link) saves and exits 0.
# 4. Resumes once more; Ctrl-C (raw mode: a byte, treated as SIGINT) saves and exits 0.
# Builds nothing. Exit status 0 = pass; any failure prints the screen and exits 1.
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 PATH/TO/lfosa (an executable)" >&2
    exit 2
fi
LFOSA="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d /tmp/lfosa-tui-e2e.XXXXXX)"
SOCKET="lfosa-e2e-$$"
SESSION_DIR="$WORK/session.lfosa"

tm() { tmux -L "$SOCKET" "$@"; }
cleanup() {
    tm kill-server >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

screen() { tm capture-pane -p -t e2e 2>/dev/null || true; }
fail() {
    echo "tui_label_e2e: FAIL: $*" >&2
    echo "---- screen ----" >&2
    screen >&2
    echo "----------------" >&2
    exit 1
}
# wait_for TEXT [SECONDS]: until the pane shows TEXT (fixed string).
wait_for() {
    local text="$1" limit="${2:-20}" i
    for ((i = 0; i < limit * 10; i++)); do
        if screen | grep -qF -- "$text"; then return 0; fi
        sleep 0.1
    done
    fail "timed out waiting for '$text'"
}
# wait_for_regex REGEX [SECONDS]
wait_for_regex() {
    local re="$1" limit="${2:-20}" i
    for ((i = 0; i < limit * 10; i++)); do
        if screen | grep -qE -- "$re"; then return 0; fi
        sleep 0.1
    done
    fail "timed out waiting for /$re/"
}
send() { tm send-keys -t e2e "$@"; }
start_label() {
    rm -f "$WORK/exit"
    tm new-session -d -s e2e -x 120 -y 40 \
        "cd '$WORK' && LC_ALL=C.UTF-8 '$LFOSA' label images --classes circle,square --session '$SESSION_DIR' --batch 10 --annotator e2e; echo \"LFOSA_EXIT=\$?\" > '$WORK/exit'; sleep 600"
}
# The lfosa process in the pane: the child of the pane's shell (read from /proc, no procps needed).
lfosa_pid() {
    local shell_pid p pid comm state ppid rest
    shell_pid="$(tm list-panes -t e2e -F '#{pane_pid}')"
    for p in /proc/[0-9]*; do
        read -r pid comm state ppid rest < "$p/stat" 2>/dev/null || continue
        if [[ "$ppid" == "$shell_pid" && "$comm" == "(lfosa)" ]]; then echo "$pid"; return 0; fi
    done
}
wait_exit() {
    local i
    for ((i = 0; i < 200; i++)); do
        if [[ -f "$WORK/exit" ]]; then cat "$WORK/exit"; return 0; fi
        sleep 0.1
    done
    fail "lfosa did not exit"
}
# json_field EXPR: evaluates a Python expression over the status JSON `s`.
status_json() { "$LFOSA" status --session "$SESSION_DIR" --json; }
check_status() {
    local expr="$1" what="$2"
    status_json | python3 -c "import json,sys; s=json.load(sys.stdin); sys.exit(0 if ($expr) else 1)" \
        || { status_json >&2; fail "store check failed: $what"; }
}

python3 "$HERE/make_images.py" "$WORK/images" 14

# --- 1. label, undo, quit -------------------------------------------------------------
start_label
wait_for_regex "1/10 .{1,3} round 1"
wait_for "cold start"
send 1
wait_for "2/10"
send 2
wait_for "3/10"
send u
wait_for "4/10"
wait_for_regex "u unknown +1"
send BSpace
wait_for "undo: unknown withdrawn"
wait_for "3/10"
wait_for_regex "u unknown +0"
send 1
wait_for "4/10"
wait_for_regex "1 circle +2"
wait_for_regex "2 square +1"
send q
[[ "$(wait_exit)" == "LFOSA_EXIT=0" ]] || fail "q did not exit with status 0"
wait_for "saved: circle 2, square 1, unknown 0"
tm kill-server
check_status "s['classes'] == {'circle': 2, 'square': 1} and s['unknown'] == 0 and s['retracted'] == 1" \
    "after quit: circle 2, square 1, unknown 0, one undo"
"$LFOSA" export --session "$SESSION_DIR" --format csv --out "$WORK/labels.csv" >/dev/null
python3 - "$WORK/labels.csv" <<'EOF' || fail "export after quit"
import csv, sys
import os
rows = list(csv.DictReader(open(sys.argv[1])))
labels = sorted(r["label"] for r in rows)
assert labels == ["circle", "circle", "square"], labels
for r in rows:
    assert os.path.isfile(r["path"]), "exported path does not exist: " + r["path"]
EOF

# --- 2. resume, label two, SIGKILL mid-batch ---------------------------------------------
start_label
wait_for "resumed: 7 image(s) left"
wait_for_regex "1/7 .{1,3} round 1"
wait_for_regex "1 circle +2"
send 1
wait_for "2/7"
send u
wait_for "3/7"
wait_for_regex "u unknown +1"
pid="$(lfosa_pid)"
[[ -n "$pid" ]] || fail "no lfosa process to kill"
kill -9 "$pid"
tm kill-server
check_status "s['classes'] == {'circle': 3, 'square': 1} and s['unknown'] == 1" \
    "after SIGKILL: every acknowledged label survived"

# --- 3. resume again: labels are there, rest of the batch offered; resize; SIGHUP ---------
start_label
wait_for "resumed: 5 image(s) left"
wait_for_regex "1/5 .{1,3} round 1"
wait_for_regex "1 circle +3"
wait_for_regex "u unknown +1"
tm resize-window -t e2e -x 50 -y 12
wait_for "terminal too small"
tm resize-window -t e2e -x 120 -y 40
wait_for_regex "1/5 .{1,3} round 1"
send 2
wait_for "2/5"
wait_for_regex "2 square +2"
pid="$(lfosa_pid)"
kill -HUP "$pid"
[[ "$(wait_exit)" == "LFOSA_EXIT=0" ]] || fail "SIGHUP did not exit cleanly"
wait_for "stopped (hangup); saved: circle 3, square 2, unknown 1"
tm kill-server
check_status "s['classes'] == {'circle': 3, 'square': 2} and s['unknown'] == 1 and s['retracted'] == 1" \
    "after SIGHUP: circle 3, square 2, unknown 1"

# --- 4. Ctrl-C in raw mode saves and exits like SIGINT -------------------------------------
start_label
wait_for "resumed: 4 image(s) left"
send u
wait_for_regex "u unknown +2"
send C-c
[[ "$(wait_exit)" == "LFOSA_EXIT=0" ]] || fail "Ctrl-C did not exit cleanly"
wait_for "stopped (interrupt); saved: circle 3, square 2, unknown 2"
tm kill-server
check_status "s['unknown'] == 2" "after Ctrl-C: the last verdict was kept"

echo "tui_label_e2e: ok (label, undo, quit, SIGKILL + resume, resize, SIGHUP, Ctrl-C)"
