# SPDX-License-Identifier: GPL-2.0
# SSH hosts on this machine for the fan-out and remote tests, sourced
# after lib.sh.  Each host is an OpenSSH server on a loopback port (nothing
# listens anywhere else), in namespaces of its own: a mount namespace
# where root's home is the host's own directory (its working directories,
# its ~/.cache/iommubench; the kernel cache is bind-mounted in, as a lab
# provisions its machines with kernels), a UTS namespace with its own host
# name, and a PID namespace, so that killing a host kills everything that
# runs on it, as a machine that dies would.  Keys (the hosts' and the
# client's) are made here; the client's ssh configuration names the hosts,
# and IOMMUBENCH_SSH / PARALLEL_SSH make iommubench and GNU parallel use
# it.  Every host is killed when the test exits.
#
#   ssh_hosts_init               keys, ssh config; needs sshd, unshare
#   ssh_host_start NAME PORT     start host NAME on 127.0.0.1:PORT
#   ssh_host_kill NAME           kill it and all that runs on it
#   ssh_host_wait NAME           wait until it accepts logins

SSHD=/usr/sbin/sshd
SSH_DIR="$TEST_TMP/ssh"

ssh_hosts_init() {
	[ -x "$SSHD" ] || skip_all "no OpenSSH server (the Debian package openssh-server; scripts/setup installs it)"
	command -v unshare >/dev/null || skip_all "no unshare (util-linux)"
	unshare --mount --pid --fork --uts true 2>/dev/null ||
		skip_all "cannot make namespaces here (unshare --mount --pid --uts)"
	mkdir -p "$SSH_DIR" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/id" -C iommubench-test
	: > "$SSH_DIR/config"
	: > "$SSH_DIR/known_hosts"
	IOMMUBENCH_SSH="ssh -F $SSH_DIR/config"
	PARALLEL_SSH=$IOMMUBENCH_SSH
	PARALLEL_HOME="$TEST_TMP/parallel"
	mkdir -p "$PARALLEL_HOME"
	export IOMMUBENCH_SSH PARALLEL_SSH PARALLEL_HOME
	_ssh_hosts=
	trap 'ssh_hosts_cleanup; rm -rf "$TEST_TMP"' EXIT
}

# ssh_client_host ALIAS PORT: a Host entry in the client's configuration.
ssh_client_host() {
	cat >> "$SSH_DIR/config" <<CFG
Host $1
	HostName 127.0.0.1
	Port $2
	User root
	IdentityFile $SSH_DIR/id
	IdentitiesOnly yes
	UserKnownHostsFile $SSH_DIR/known_hosts
	StrictHostKeyChecking accept-new
	LogLevel ERROR
CFG
}

ssh_host_start() {
	name=$1
	port=$2
	h="$TEST_TMP/hosts/$name"
	mkdir -p "$h/home/.cache/iommubench/kernels"
	ssh-keygen -q -t ed25519 -N '' -f "$h/host_key"
	cp "$SSH_DIR/id.pub" "$h/authorized_keys"
	cat > "$h/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $port
HostKey $h/host_key
AuthorizedKeysFile $h/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
LogLevel ERROR
CFG
	ssh_client_host "$name" "$port"
	kernels="${IOMMUBENCH_CACHE:-$HOME/.cache/iommubench}/kernels"
	unshare --mount --pid --fork --uts --kill-child --propagation private \
		sh -c "hostname $name &&
		       mount --bind '$kernels' '$h/home/.cache/iommubench/kernels' &&
		       mount --rbind '$h/home' /root &&
		       exec $SSHD -D -e -f '$h/sshd_config'" \
		> "$h/sshd.log" 2>&1 &
	echo $! > "$h/pid"
	_ssh_hosts="$_ssh_hosts $name"
	ssh_host_wait "$name"
}

ssh_host_wait() {
	i=0
	while [ $i -lt 100 ]; do
		$IOMMUBENCH_SSH -o BatchMode=yes "$1" true 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "# host $1 did not come up:"
	sed 's/^/#   /' "$TEST_TMP/hosts/$1/sshd.log"
	return 1
}

ssh_host_kill() {
	h="$TEST_TMP/hosts/$1"
	[ -f "$h/pid" ] || return 0
	# unshare ignores SIGTERM while it waits; --kill-child passes SIGKILL on
	kill -KILL "$(cat "$h/pid")" 2>/dev/null || :
	wait "$(cat "$h/pid")" 2>/dev/null || :
	rm -f "$h/pid"
}

ssh_hosts_cleanup() {
	for n in $_ssh_hosts; do
		ssh_host_kill "$n"
	done
}
