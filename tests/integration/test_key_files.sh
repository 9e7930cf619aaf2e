#!/usr/bin/env bash
# Signing keys: `lienthong-agent keygen` writes the private key with mode
# 0600 and never overwrites an existing key without --force; the agent
# refuses to start with a key that group or others may read, saying how to
# fix it, and starts once the mode is 0600.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 91 1
c=${T_COMMUNES[0]}
key=$T_DIR/$c.key.pem pub=$T_DIR/$c.pub.pem

# key_id FILE - the key id keygen's line printed into FILE.
key_id() { sed -n 's/.*key id \(ed25519:[0-9a-f]*\)$/\1/p' "$1"; }

# ---- 1. keygen: mode 0600, and no second keygen over it without --force
"$AGENT" keygen "$key" "$pub" >"$T_DIR/keygen1.out" 2>&1 || t_fail "keygen failed: $(cat "$T_DIR/keygen1.out")"
t_assert_eq 600 "$(stat -c %a "$key")" "mode of the new private key"
id1=$(key_id "$T_DIR/keygen1.out")
[ -n "$id1" ] || t_fail "keygen printed no key id: $(cat "$T_DIR/keygen1.out")"
sum=$(cat "$key" "$pub" | sha256sum)

st=0
"$AGENT" keygen "$key" "$pub" >"$T_DIR/keygen2.out" 2>&1 || st=$?
t_assert_eq 1 "$st" "exit status of keygen over an existing key"
grep -q "$key exists: not overwriting it.*--force" "$T_DIR/keygen2.out" ||
    t_fail "keygen over an existing key did not say why: $(cat "$T_DIR/keygen2.out")"
t_assert_eq "$sum" "$(cat "$key" "$pub" | sha256sum)" "key files after a refused keygen"

# An existing public file alone is kept too.
st=0
"$AGENT" keygen "$T_DIR/other.key.pem" "$pub" >"$T_DIR/keygen3.out" 2>&1 || st=$?
t_assert_eq 1 "$st" "exit status of keygen over an existing public key"
grep -q "$pub exists" "$T_DIR/keygen3.out" || t_fail "keygen over a public key: $(cat "$T_DIR/keygen3.out")"
[ ! -e "$T_DIR/other.key.pem" ] || t_fail "a refused keygen wrote the private key"
t_log "ok: keygen keeps existing key files and says to give --force"

"$AGENT" keygen --force "$key" "$pub" >"$T_DIR/keygen4.out" 2>&1 ||
    t_fail "keygen --force failed: $(cat "$T_DIR/keygen4.out")"
id2=$(key_id "$T_DIR/keygen4.out")
[ -n "$id2" ] && [ "$id2" != "$id1" ] || t_fail "keygen --force made no new key ($id1 -> $id2)"
t_assert_eq 600 "$(stat -c %a "$key")" "mode of the replaced private key"
t_log "ok: keygen --force replaces the pair ($id1 -> $id2)"

# ---- 2. the agent refuses a key others may read, and says how to fix it
for mode in 644 640 604; do
    chmod "$mode" "$key"
    t_spawn "agent_$c" job "$AGENT" -c "$T_DIR/agent_$c.ini" -o "agent.signing_key=$key" run
    t_wait_exit "agent_$c" 60
    t_assert_eq 1 "${T_EXIT[agent_$c]}" "exit status of the agent with a key of mode 0$mode"
    grep -q "$key is readable by group or others (mode 0$mode): chmod 600 $key" "$T_DIR/agent_$c.log" ||
        t_fail "the agent did not refuse the key of mode 0$mode clearly (log $T_DIR/agent_$c.log)"
done
t_log "ok: the agent refuses a key readable by group or others: 'chmod 600 KEY'"

chmod 600 "$key"
t_start_agent "$c" -o "agent.signing_key=$key"
wait_until "grep -q 'msg=\"agent started\".*key_id=$id2' $T_DIR/agent_$c.log" 60 "the agent started with key $id2"
t_stop "agent_$c"
t_log "ok: with mode 0600 the agent starts and signs with $id2"
