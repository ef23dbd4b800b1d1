# registry.sh — a private Debian `docker-registry` on 127.0.0.1 for tests.
#   registry_start DIR [USER PASS]   start one (htpasswd auth when USER/PASS given;
#                                    REG_TLS=1: HTTPS with a fresh self-signed cert);
#                                    sets REG_ADDR (127.0.0.1:PORT) and REG_PID
#   registry_stop                    stop the one this shell started (by pid)
# Needs: docker-registry, and apache2-utils (htpasswd) for auth.

registry_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

registry_start() {
	local dir=$1 user=${2:-} pass=${3:-} port auth=""
	command -v docker-registry >/dev/null || { echo "registry.sh: docker-registry is not installed" >&2; return 1; }
	mkdir -p "$dir/data"
	port=$(registry_free_port)
	if [ -n "$user" ]; then
		htpasswd -Bbc "$dir/htpasswd" "$user" "$pass" >/dev/null 2>&1 || return 1
		auth="auth:
  htpasswd:
    realm: hull-test
    path: $dir/htpasswd"
	fi
	local tls="" scheme=http
	if [ "${REG_TLS:-}" = 1 ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
			-keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || return 1
		tls="  tls:
    certificate: $dir/cert.pem
    key: $dir/key.pem"
		scheme=https
	fi
	cat > "$dir/config.yml" <<EOT
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$tls
$auth
EOT
	docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	REG_PID=$!
	REG_ADDR=127.0.0.1:$port
	local i
	for i in $(seq 100); do
		curl -sk -o /dev/null "$scheme://$REG_ADDR/v2/" && return 0
		kill -0 "$REG_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "registry.sh: registry did not start:" >&2
	cat "$dir/log" >&2
	return 1
}

registry_stop() {
	[ -n "${REG_PID:-}" ] || return 0
	kill "$REG_PID" 2>/dev/null
	wait "$REG_PID" 2>/dev/null
	REG_PID=
}
