"""Keras' own dataset downloads, tried without ever hanging on a machine with no network."""
import socket
import threading

KERAS_SERVER = ("storage.googleapis.com", 443)  # where keras.datasets downloads from
CONNECT_TIMEOUT_S = 3
DOWNLOAD_TIMEOUT_S = 300


def try_keras_download(load, what="the data"):
    """`load()` (a keras.datasets loader) when Keras' server answers, else None; never hangs.

    A machine without network fails in the name lookup or the connection, which can block for
    a long time; both run in a daemon thread that the caller stops waiting for. A failure after
    connecting is printed as one warning line.
    """
    result = {}
    connected = threading.Event()

    def attempt():
        try:
            socket.create_connection(KERAS_SERVER, timeout=CONNECT_TIMEOUT_S).close()
        except OSError as error:
            result["error"] = error
            return
        connected.set()
        try:
            result["data"] = load()
        except Exception as error:  # Keras wraps every fetch failure in a bare Exception
            result["error"] = error

    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(CONNECT_TIMEOUT_S * 5)  # a stalled read raises instead of hanging
    try:
        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(CONNECT_TIMEOUT_S + 2)
        if connected.is_set():
            worker.join(DOWNLOAD_TIMEOUT_S)
    finally:
        socket.setdefaulttimeout(previous_timeout)
    if "data" in result:
        return result["data"]
    if connected.is_set():
        print(f"warning: Keras could not download {what} ({result.get('error', 'timed out')})")
    return None
