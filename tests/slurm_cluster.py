"""A throw-away one-node SLURM cluster (munged, slurmctld, slurmd) for tests, run as root.

Everything lives in private temporary folders (its own slurm.conf, state and spool folders, munge key
and socket, free ports); client commands find the cluster through ``env`` (``SLURM_CONF``). Nothing
is written under /etc, /run or /var. The daemons run in the foreground as children of this process
and are stopped by their PIDs in ``stop()``.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "srun", "scontrol", "scancel", "sinfo")
# A generous fake node: the profile's requests (8 threads, several GB) must fit. Nothing is enforced
# (task/none, no cgroups) and `config_overrides` keeps slurmd from draining it for lacking the hardware.
NODE_CPUS = 16
NODE_MEMORY_MB = 64000
ACTIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "STOPPED")


class SlurmUnavailable(Exception):
    """SLURM cannot be run here (the message says why)."""


def why_unavailable():
    """None when a private cluster can be attempted here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root (the SLURM daemons are started as root)"
    missing = [name for name in DAEMONS + CLIENTS if not _which(name)]
    if missing:
        return (f"SLURM/munge binaries missing ({', '.join(missing)}): "
                "apt-get install slurmctld slurmd slurm-client munge")
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "no 'munge' user (install the munge package)"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(name):
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


class Cluster:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.procs = {}  # daemon name -> Popen
        self.host = socket.gethostname().split(".")[0]
        self.conf = self.root / "slurm.conf"
        # munged checks that its folders are not writable by others and runs as `munge`, which cannot
        # enter pytest's root-only tmp folders: it gets a folder of its own under the temp dir.
        self.munge_dir = Path(tempfile.mkdtemp(prefix="ltc-munge-"))
        self.munge_socket = self.munge_dir / "munge.socket"
        # nothing from an enclosing SLURM job or the user's SLURM settings leaks in
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_", "SALLOC_"))}
        self.env["SLURM_CONF"] = str(self.conf)

    # ---------------------------------------------------------------- start
    def start(self, timeout=60):
        try:
            self._start_munge(timeout)
            self._write_conf()
            self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
            self._wait(lambda: self._ok("scontrol", "ping") and "UP" in self._out("scontrol", "ping"),
                       timeout, "slurmctld did not answer `scontrol ping`")
            self._spawn("slurmd", [_which("slurmd"), "-D", "-N", "localhost", "-f", str(self.conf)])
            self._wait(lambda: self._node_state() in ("IDLE", "MIXED", "ALLOCATED"), timeout,
                       "the node did not become idle")
        except BaseException:  # nothing left running, whatever went wrong
            self.stop()
            raise
        return self

    def _start_munge(self, timeout):
        munge = pwd.getpwnam("munge")
        key = self.munge_dir / "munge.key"
        key.write_bytes(os.urandom(1024))
        for path in (self.munge_dir, key):
            os.chown(path, munge.pw_uid, munge.pw_gid)
        key.chmod(0o400)
        self.munge_dir.chmod(0o755)  # munged wants its socket folder open to all (x)
        cmd = [_which("munged"), "-F", f"--socket={self.munge_socket}", f"--key-file={key}",
               f"--pid-file={self.munge_dir / 'munged.pid'}", f"--log-file={self.munge_dir / 'munged.log'}",
               f"--seed-file={self.munge_dir / 'munged.seed'}"]
        self._spawn("munged", cmd, user=munge.pw_uid, group=munge.pw_gid, extra_groups=[])
        self._wait(self.munge_socket.exists, timeout, "munged did not create its socket")

    def _write_conf(self):
        for sub in ("state", "spool", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "plugstack.conf").write_text("")
        self.ctld_port, self.slurmd_port = _free_port(), _free_port()
        self.conf.write_text(f"""\
ClusterName=ltctest
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={self.ctld_port}
SlurmdPort={self.slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={self.root / 'state'}
SlurmdSpoolDir={self.root / 'spool'}
SlurmctldPidFile={self.root / 'slurmctld.pid'}
SlurmdPidFile={self.root / 'slurmd.pid'}
SlurmctldLogFile={self.root / 'log' / 'slurmctld.log'}
SlurmdLogFile={self.root / 'log' / 'slurmd.log'}
PlugStackConfig={self.root / 'plugstack.conf'}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# finished jobs stay visible to squeue/scontrol (no accounting here) long enough for the test
MinJobAge=600
InactiveLimit=0
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=localhost NodeHostname={self.host} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} RealMemory={NODE_MEMORY_MB}
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""")

    def _spawn(self, name, cmd, **kwargs):
        log = open(self.root / f"{name}.out", "wb")
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=self.env, start_new_session=True, **kwargs)
        log.close()

    def _wait(self, ready, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise SlurmUnavailable(f"{dead[0]} exited with status {self.procs[dead[0]].returncode}: "
                                       f"{self.log_tail(dead[0])}")
            if ready():
                return
            time.sleep(0.3)
        raise SlurmUnavailable(f"{what} within {timeout} s: {self.log_tail()}")

    def log_tail(self, name=None, lines=8):
        """The last lines of the daemons' output (slurmctld/slurmd -D copy their log there), for messages."""
        files = [self.root / f"{name}.out"] if name else sorted(self.root.glob("*.out"))
        if name in ("munged", None):
            files.append(self.munge_dir / "munged.log")
        out = []
        for f in files:
            if f.exists() and f.stat().st_size:
                out.append(f"[{f.name}] " + " | ".join(f.read_text(errors="replace").splitlines()[-lines:]))
        return "; ".join(out) or "(no daemon output)"

    # ---------------------------------------------------------------- clients
    def run(self, *cmd, check=True):
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=check, timeout=60)

    def _out(self, *cmd):
        return self.run(*cmd, check=False).stdout

    def _ok(self, *cmd):
        return self.run(*cmd, check=False).returncode == 0

    def _node_state(self):
        return self._out("sinfo", "-h", "-N", "-o", "%T").strip().upper().rstrip("*~#$@")

    def jobs(self):
        """Every job slurmctld still knows (MinJobAge keeps finished ones): dicts of id, name, comment, state."""
        out = self.run("squeue", "--states=all", "--noheader", "--format=%i|%j|%k|%T").stdout
        keys = ("id", "name", "comment", "state")
        return [dict(zip(keys, line.split("|", 3))) for line in out.splitlines() if line.strip()]

    def job_details(self, job_id):
        """`scontrol show job` as a dict (Key=Value pairs)."""
        text = self.run("scontrol", "-o", "show", "job", str(job_id)).stdout
        return dict(tok.split("=", 1) for tok in text.split() if "=" in tok)

    # ---------------------------------------------------------------- stop
    def stop(self):
        """Cancel the jobs still running, then stop the daemons this object started, by PID, slurmd first."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            for _ in range(40):
                active = [j["id"] for j in self._jobs_or_none() if j["state"] in ACTIVE]
                if not active:
                    break
                self.run("scancel", "--full", *active, check=False)
                time.sleep(0.5)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(self.munge_dir, ignore_errors=True)

    def _jobs_or_none(self):
        try:
            return self.jobs()
        except (subprocess.SubprocessError, OSError):
            return []
