"""Starting, watching and stopping the processes of one benchmark run.

Every process the harness starts gets its own session (so its whole tree can be
signalled through one process-group id) and its group id is appended to
<run_dir>/pgids, which bench/run.sh reads to clean up even if this Python process
is killed outright.
"""

import os
import signal
import socket
import subprocess
import time

CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


class Launcher:
    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.pgid_file = os.path.join(run_dir, "pgids")
        self.started = []

    def start(self, name, argv, cpus=None, stdin=subprocess.DEVNULL, capture=False, env=None):
        """Starts argv pinned to `cpus` (None: inherit) with `env` (None: inherit); output
        goes to <run_dir>/<name>.log unless `capture`, in which case stdout is a pipe."""
        log = open(os.path.join(self.run_dir, name + ".log"), "ab")

        def pin_to_cpus():
            if cpus:
                os.sched_setaffinity(0, cpus)

        proc = subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=subprocess.PIPE if capture else log,
            stderr=log,
            start_new_session=True,
            preexec_fn=pin_to_cpus,
            env=env,
        )
        log.close()
        self.started.append(proc)
        self._write_pgids()
        return proc

    def run(self, name, argv, cpus, timeout_s, env=None):
        """Runs a bounded command (a load generator); returns (exit code, stdout text)."""
        proc = self.start(name, argv, cpus, capture=True, env=env)
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        finally:
            self.stop(proc)
        return proc.returncode, out.decode(errors="replace")

    def _write_pgids(self):
        # Only live groups are listed, so run.sh never signals a recycled id.
        with open(self.pgid_file, "w") as f:
            f.writelines(f"{p.pid}\n" for p in self.started)

    def log_tail(self, name, lines=15):
        try:
            with open(os.path.join(self.run_dir, name + ".log"), "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, proc, grace_s=3.0):
        """SIGTERM to the process group, SIGKILL after `grace_s`."""
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        # Children (nginx workers) may outlive a master that exited. Checking that the
        # group still has members first means a recycled id is never signalled.
        if proc.poll() is None or _group_has_members(proc.pid):
            _signal_group(proc.pid, signal.SIGKILL)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        if proc in self.started:
            self.started.remove(proc)
            self._write_pgids()

    def stop_all(self):
        for proc in list(reversed(self.started)):
            self.stop(proc)


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_has_members(pgid):
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _read_stat(entry)
            if fields is not None and int(fields[2]) == pgid:  # field 5: pgrp
                return True
    return False


def _read_stat(pid):
    """Returns the fields of /proc/<pid>/stat after the command name, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return text[text.rindex(")") + 2 :].split()


def process_tree(root_pid):
    """root_pid and all its descendants (processes, not threads)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _read_stat(entry)
        if fields is None:
            continue
        parent = int(fields[1])  # field 4 of stat: ppid
        children.setdefault(parent, []).append(int(entry))
    tree, pending = [], [root_pid]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def cpu_ticks_split(pids):
    """(utime, stime): stat fields 14 and 15, all threads included, summed over pids."""
    user = system = 0
    for pid in pids:
        fields = _read_stat(pid)
        if fields is not None:
            # fields[0] is stat field 3, so field N is fields[N - 3].
            user += int(fields[11])
            system += int(fields[12])
    return user, system


def cpu_ticks(pids):
    """utime + stime summed over pids."""
    return sum(cpu_ticks_split(pids))


def ticks_to_us(ticks):
    return ticks * 1_000_000 / CLOCK_TICKS_PER_SECOND


def memory_kib(pids, field):
    """Sum of a /proc/<pid>/status field (VmRSS, VmHWM) in KiB over pids."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def reset_peak_rss(pids):
    """Resets VmHWM so the next reading is the peak of one measurement. Returns False
    where the kernel does not allow it (the peak then spans the whole run)."""
    ok = True
    for pid in pids:
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            ok = False
    return ok


def free_ports(count):
    """`count` distinct loopback ports that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for_port(port, proc, timeout_s=15.0):
    """True once 127.0.0.1:port accepts a connection; False if proc exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False
