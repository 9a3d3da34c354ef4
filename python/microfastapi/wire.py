"""The wire-level request and what both pure-Python servers share (pyserver on the network,
the TestClient in-process): the request object handed to the app, the reason phrases, body
encoding and the header check. _mfa has its own C twins (mfa_conn.c, modmfa_server.c).
"""


# The same table as mfa_conn_reason() in cmodules/mfa/mfa_conn.c (a test compares the two).
REASONS = {
    100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
    206: "Partial Content", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict",
    410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
    416: "Range Not Satisfiable", 417: "Expectation Failed", 422: "Unprocessable Content",
    426: "Upgrade Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}



def encode_body(body):
    """A response body as bytes-like: None is empty, a str is UTF-8."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return body


def check_status(code):
    """A final answer's status: an int from 200 to 599 (1xx are interim answers the server
    sends itself; FastAPI allows any 3-digit code >= 200, HTTP defines classes 2xx-5xx).
    Returns it; raises ValueError otherwise."""
    if isinstance(code, int) and not isinstance(code, bool) and 200 <= code <= 599:
        return code
    raise ValueError("status_code must be an int from 200 to 599, not %r" % (code,))


def check_headers(headers):
    """Refuse header names/values that could split the response (CR, LF or NUL)."""
    for k, v in headers:
        # (written out, not a loop over (k, v): a tuple per header is heap on every answer)
        if "\r" in k or "\n" in k or "\0" in k:
            raise ValueError("CR, LF or NUL in header %r" % (k,))
        if "\r" in v or "\n" in v or "\0" in v:
            raise ValueError("CR, LF or NUL in header %r" % (v,))


class Request:
    """A complete request: the parser's attributes (read through to the head object) plus
    body and client; `conn` is the server's own state for it (None in the TestClient). Four
    instance attributes only, to keep the per-request allocation small."""

    def __init__(self, head, body, client, conn=None):
        self._head = head
        self.body = body
        self.client = client
        self._conn = conn

    method = property(lambda self: self._head.method)
    path = property(lambda self: self._head.path)
    query = property(lambda self: self._head.query)
    version = property(lambda self: self._head.version)
    header_len = property(lambda self: self._head.header_len)
    content_length = property(lambda self: self._head.content_length)
    chunked = property(lambda self: self._head.chunked)
    keep_alive = property(lambda self: self._head.keep_alive)
    expect_continue = property(lambda self: self._head.expect_continue)
    headers = property(lambda self: self._head.headers)

    def header(self, name, default=None):
        return self._head.header(name, default)

    def __repr__(self):
        return "<Request %s %s>" % (self.method, self.path)
