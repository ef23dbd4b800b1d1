# lib.sh — sourced by tests/conformance/test_*.sh.
#
# Every check names the runtime-spec sentence it verifies (its row id in
# MUSTS.md, e.g. `runtime.md#L127`) and prints one TAP-ish line:
#   ok N - <id> <desc>  |  not ok N - <id> <desc>  |  ok N - <id> <desc> # SKIP why
# cf_done closes with "N passed, N failed[, N skipped]" and the exit status.
#
# cf_init NAME "$@"     re-exec the calling script as a child subreaper inside
#                       private mount + network namespaces (/ rshared, so
#                       propagation is observable and nothing reaches the host),
#                       then set HULL, WORK (scratch), STATE (--root), ROOTFS_CACHE
# H ARGS...             "$HULL" --root "$STATE" ARGS...
# cf_bundle DIR JQ [ARG...]   bundle: rootfs from the cache, config from
#                       `hull spec` with terminal=false, args=ARG..., the jq
#                       filter JQ applied last (use `.` for none)
# cf_run DIR [FLAGS...] `run` in the foreground: $OUT $ERR $RC, then delete -f
# cf_create DIR ID      `create`; $RC $ERR
# cf_state ID           `state` JSON into $ST ($RC)
# cf_field ID JQ        one field of `state`, raw
# cf_gone ID            true when `state ID` fails and nothing is left under --root
# cf_rm ID              delete --force, errors ignored
# cf_schema SCHEMA FILE validate FILE against tests/conformance/schema/SCHEMA
# pass/fail/skip ID DESC [REASON] ; check ID DESC COMMAND... ; cf_done

CF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CF_LIB=$CF_DIR/../lib
CF_PASS=0 CF_FAIL=0 CF_SKIP=0 CF_N=0

cf_init() {
	local name=$1; shift
	if [ -z "${CF_IN_NS:-}" ]; then
		export CF_IN_NS=1
		exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' \
			unshare -m -n --propagation slave -- /bin/bash -c 'mount --make-rshared / && ip link set lo up && exec bash "$@"' bash "$@"
	fi
	HULL=${HULL:-$CF_DIR/../../build/hull}
	case "$HULL" in */*) HULL=$(readlink -f "$HULL") ;; esac
	if ! [ -x "$HULL" ]; then
		echo "# $name: no hull binary at $HULL"
		echo "0 passed, 0 failed, 1 skipped"
		exit 77
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "# $name: needs root"
		echo "0 passed, 0 failed, 1 skipped"
		exit 77
	fi
	WORK=$(mktemp -d "/var/tmp/hull-conf-$name.XXXXXX")
	chmod 755 "$WORK"   # a container root in a user namespace must reach its rootfs
	STATE=$WORK/state
	mkdir -p "$STATE"
	ROOTFS_CACHE=${CF_ROOTFS_CACHE:-$WORK/rootfs-cache}
	export ROOTFS_CACHE
	[ -x "$ROOTFS_CACHE/bin/busybox" ] || "$CF_LIB/make-rootfs.sh" "$ROOTFS_CACHE"
	CF_SPEC=$WORK/spec.json
	local d; d=$(mktemp -d "$WORK/spec.XXXX")
	if "$HULL" spec -b "$d" >/dev/null 2>&1 && [ -s "$d/config.json" ]; then
		mv "$d/config.json" "$CF_SPEC"
	else
		# hull spec broken: keep testing everything else with make-bundle's defaults
		echo "# hull spec failed; using tests/lib/make-bundle.sh defaults"
		"$CF_LIB/make-bundle.sh" "$d" >/dev/null && mv "$d/config.json" "$CF_SPEC"
	fi
	rm -rf "$d"
	trap cf_cleanup EXIT
}

cf_cleanup() {
	local id
	for id in $(ls "$STATE" 2>/dev/null); do "$HULL" --root "$STATE" delete -f "$id" >/dev/null 2>&1; done
	grep -o " $WORK[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$WORK"
}

H() { "$HULL" --root "$STATE" "$@"; }

cf_bundle() {  # DIR JQ [ARG...]
	local dir=$1 filter=$2; shift 2
	[ $# -eq 0 ] && set -- /bin/true
	rm -rf "$dir"
	mkdir -p "$dir/rootfs"
	cp -a "$ROOTFS_CACHE/." "$dir/rootfs/"
	chmod 755 "$dir/rootfs"   # the cache may be a mktemp -d (0700): non-root users must traverse /
	# one jq per bundle (jq starts slowly and the tests build many bundles);
	# args go in as JSON, since jq would take a "-c" among --args as its own
	local args="" a
	for a in "$@"; do args+="${args:+,}$(json_str "$a")"; done
	jq "(.process.terminal = false | .process.args = [$args]) | $filter" "$CF_SPEC" > "$dir/config.json"
}

# bind-mount DIR/out (created) read-write at /out in the container
cf_out() {  # DIR
	mkdir -p "$1/out"
	cf_jq "$1" '.mounts += [{destination: "/out", type: "bind", source: $o, options: ["rbind", "rw"]}]' --arg o "$1/out"
}

# a JSON string literal for $1 (backslash, quote, control characters escaped)
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\t'/\\t}
	s=${s//$'\r'/\\r}
	printf '"%s"' "$s"
}

# edit an existing bundle's config in place
cf_jq() {  # DIR JQ [jq args...]
	local dir=$1 filter=$2; shift 2
	jq "$@" "$filter" "$dir/config.json" > "$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
}

CF_ID=0
cf_newid() { CF_ID=$((CF_ID + 1)); echo "cf$$-$CF_ID"; }

cf_run() {  # DIR [FLAGS...]
	local dir=$1; shift
	local id; id=$(cf_newid)
	OUT=$(cd "$dir" && timeout -k 5 60 "$HULL" --root "$STATE" run "$@" --bundle "$dir" "$id" </dev/null 2>"$WORK/stderr")
	RC=$?
	ERR=$(cat "$WORK/stderr")
	"$HULL" --root "$STATE" delete -f "$id" >/dev/null 2>&1 || true
}

cf_create() {  # DIR ID [FLAGS...]
	local dir=$1 id=$2; shift 2
	timeout -k 5 60 "$HULL" --root "$STATE" create "$@" --bundle "$dir" "$id" </dev/null >/dev/null 2>"$WORK/stderr"
	RC=$?
	ERR=$(cat "$WORK/stderr")
}

cf_start() {  # ID
	timeout -k 5 60 "$HULL" --root "$STATE" start "$1" </dev/null >/dev/null 2>"$WORK/stderr"
	RC=$?
	ERR=$(cat "$WORK/stderr")
}

cf_state() { ST=$(H state "$1" 2>/dev/null); RC=$?; }
cf_field() { H state "$1" 2>/dev/null | jq -r "$2" 2>/dev/null; }
cf_gone() { ! H state "$1" >/dev/null 2>&1 && [ ! -e "$STATE/$1" ]; }
cf_rm() { H delete -f "$1" >/dev/null 2>&1 || true; }

# wait until `state ID` reports STATUS (default: up to 10 s)
cf_wait_status() {  # ID STATUS [SECONDS]
	local i=0 n=$(( ${3:-10} * 20 ))
	while [ $i -lt $n ]; do
		[ "$(cf_field "$1" .status)" = "$2" ] && return 0
		sleep 0.05; i=$((i + 1))
	done
	return 1
}

wait_file() {  # PATH [SECONDS]
	local i=0 n=$(( ${2:-10} * 20 ))
	while [ ! -e "$1" ] && [ $i -lt $n ]; do sleep 0.05; i=$((i + 1)); done
	[ -e "$1" ]
}

# python3 with jsonschema: Debian's (python3-jsonschema) first, then whatever is on PATH
cf_python_jsonschema() {
	local p
	for p in /usr/bin/python3 python3; do
		"$p" -c 'import jsonschema' 2>/dev/null && { echo "$p"; return 0; }
	done
	return 1
}

cf_schema() {  # SCHEMA-FILE JSON-FILE ; prints the first error on failure
	local py; py=$(cf_python_jsonschema) || { echo "no python3 jsonschema"; return 2; }
	"$py" - "$CF_DIR/schema/$1" "$2" <<'EOF'
import json, sys, pathlib
import jsonschema
schema_path = pathlib.Path(sys.argv[1]).resolve()
schema = json.load(open(schema_path))
doc = json.load(open(sys.argv[2]))
resolver = jsonschema.RefResolver(base_uri=schema_path.as_uri(), referrer=schema)
cls = jsonschema.validators.validator_for(schema)
errors = sorted(cls(schema, resolver=resolver).iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:3]:
    print("schema: %s: %s" % ("/".join(map(str, e.path)) or "<root>", e.message[:200]))
sys.exit(1 if errors else 0)
EOF
}

pass() { CF_N=$((CF_N + 1)); CF_PASS=$((CF_PASS + 1)); echo "ok $CF_N - $1 $2"; }
fail() {
	CF_N=$((CF_N + 1)); CF_FAIL=$((CF_FAIL + 1)); echo "not ok $CF_N - $1 $2"
	[ -n "${3:-}" ] && printf '%s\n' "$3" | head -8 | sed 's/^/    # /'
	return 0
}
skip() { CF_N=$((CF_N + 1)); CF_SKIP=$((CF_SKIP + 1)); echo "ok $CF_N - $1 $2 # SKIP $3"; }

# check ID DESC COMMAND...: ok when COMMAND succeeds; a failure shows what the
# last container run printed so the line explains itself
check() {
	local id=$1 desc=$2; shift 2
	if "$@"; then
		pass "$id" "$desc"
	else
		fail "$id" "$desc" "$(printf 'rc=%s\nout: %s\nerr: %s' "${RC:-}" "$(printf '%s' "${OUT:-}" | head -4)" "$(printf '%s' "${ERR:-}" | head -3)")"
	fi
}

# `create` must fail and leave nothing behind (runtime.md#L84, #L110, #L116)
check_create_fails() {  # ID DESC BUNDLE
	local sid=$1 desc=$2 dir=$3
	local cid; cid=$(cf_newid)
	cf_create "$dir" "$cid"
	if [ "$RC" != 0 ] && cf_gone "$cid"; then
		pass "$sid" "$desc"
	else
		[ "$RC" = 0 ] && cf_rm "$cid"
		fail "$sid" "$desc" "create rc=$RC (want an error and no container); err: $ERR"
	fi
}

cf_done() {
	if [ "$CF_SKIP" -gt 0 ]; then
		echo "$CF_PASS passed, $CF_FAIL failed, $CF_SKIP skipped"
	else
		echo "$CF_PASS passed, $CF_FAIL failed"
	fi
	[ "$CF_FAIL" -eq 0 ]
}

# mountinfo helpers over captured text $1; mount point $2 (last line wins)
mi_line() { printf '%s\n' "$1" | awk -v mp="$2" '$5 == mp' | tail -1; }
mi_opts() { mi_line "$1" "$2" | awk '{print $6}'; }
mi_fstype() { mi_line "$1" "$2" | awk '{for (i = 7; i <= NF; i++) if ($i == "-") {print $(i+1); exit}}'; }
mi_sbopts() { mi_line "$1" "$2" | awk '{for (i = 7; i <= NF; i++) if ($i == "-") {print $(i+3); exit}}'; }
mi_optional() { mi_line "$1" "$2" | awk '{s = ""; for (i = 7; i <= NF && $i != "-"; i++) s = s " " $i; print s}'; }
has_opt() { case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }
