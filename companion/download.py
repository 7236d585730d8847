"""Keras' own dataset downloads, tried without ever hanging on a machine with no network."""
import contextlib
import socket
import threading

KERAS_SERVER = ("storage.googleapis.com", 443)  # where keras.datasets downloads from
CONNECT_TIMEOUT_S = 3
DOWNLOAD_TIMEOUT_S = 300


def server_answers():
    """Whether Keras' server takes a connection within seconds (a name lookup without network
    can block for long: in a thread no one waits for)."""
    answered = threading.Event()

    def attempt():
        with contextlib.suppress(OSError):
            socket.create_connection(KERAS_SERVER, timeout=CONNECT_TIMEOUT_S).close()
            answered.set()

    threading.Thread(target=attempt, daemon=True).start()
    return answered.wait(CONNECT_TIMEOUT_S + 2)


def try_keras_download(load, what="the data"):
    """`load()` (a keras.datasets loader) when Keras' server answers, else None; never hangs.
    A failure after connecting is printed as one warning line."""
    result = {}

    def attempt():
        try:
            result["data"] = load()
        except Exception as error:  # Keras wraps every fetch failure in a bare Exception
            result["error"] = error

    if not server_answers():
        return None
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(CONNECT_TIMEOUT_S * 5)  # a stalled read raises instead of hanging
    try:
        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(DOWNLOAD_TIMEOUT_S)
    finally:
        socket.setdefaulttimeout(previous_timeout)
    if "data" not in result:
        print(f"warning: Keras could not download {what} ({result.get('error', 'timed out')})")
    return result.get("data")
