"""`edgellm serve` for the GPU benchmark scripts: start it, wait for /health, stop it."""
import subprocess, time, urllib.request


def start_server(argv, log_path, port, tries=600):
    """Runs argv (an `edgellm serve ...` command line) with its output in log_path and waits up to
    tries / 2 seconds for http://127.0.0.1:port/health. Returns (process, ready); when the server
    died or never answered, prints the log's tail and returns ready False (the caller stops it)."""
    srv = subprocess.Popen(argv, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    for _ in range(tries):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return srv, True
        except Exception:
            if srv.poll() is not None:
                break
            time.sleep(0.5)
    print("server not ready:", open(log_path).read()[-2000:], flush=True)
    return srv, False


def stop_server(srv):
    srv.terminate()
    srv.wait()
