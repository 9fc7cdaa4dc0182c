"""NetSuite REST's error envelope, and the error codes the sandbox answers with.

NetSuite REST errors are RFC 9457-style problem documents with Oracle extensions::

    {"type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "title": "Bad Request", "status": 400,
     "o:errorDetails": [{"detail": "...", "o:errorCode": "USER_ERROR", "o:errorPath": "item.items[0].item"}]}

Codes used (as REST web services report them; the SOAP-era codes such as DUP_RCRD or INVALID_KEY_OR_REF do
not appear in REST responses, their meaning is carried in ``detail``): ``INVALID_LOGIN`` (401),
``NONEXISTENT_ID`` (404), ``USER_ERROR`` (business validation), ``INVALID_CONTENT`` (unreadable body),
``INVALID_PARAMETER`` (bad query parameter), ``INVALID_HEADER``, ``CONCURRENCY_LIMIT_EXCEEDED`` (429),
``UNEXPECTED_ERROR`` (500).
"""

from __future__ import annotations

from sandbox.http import Request, Response

TYPES = {
    400: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "Bad Request"),
    401: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2", "Unauthorized"),
    404: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5", "Not Found"),
    405: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6", "Method Not Allowed"),
    429: ("https://www.rfc-editor.org/rfc/rfc6585.html#section-4", "Too Many Requests"),
    500: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1", "Internal Server Error"),
}

ACCESS_PREFIX = "Error while accessing a resource. "


class NetSuiteError(Exception):
    """A request the sandbox refuses, rendered in NetSuite's envelope by the route layer."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        path: str | None = None,
        url_path: str | None = None,
        header: str | None = None,
        query_param: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path
        self.url_path = url_path
        self.header = header
        self.query_param = query_param

    def response(self) -> Response:
        detail: dict[str, str] = {"detail": self.detail, "o:errorCode": self.code}
        if self.path is not None:
            detail["o:errorPath"] = self.path
        if self.url_path is not None:
            detail["o:errorUrl"] = self.url_path
        if self.header is not None:
            detail["o:errorHeader"] = self.header
        if self.query_param is not None:
            detail["o:errorQueryParam"] = self.query_param
        return envelope(self.status, [detail])


def envelope(status: int, details: list[dict]) -> Response:
    type_url, title = TYPES.get(status, TYPES[400])
    body = {"type": type_url, "title": title, "status": status, "o:errorDetails": details}
    return Response.json(body, status=status, headers={"Content-Type": "application/vnd.oracle.resource+json"})


def user_error(detail: str, path: str | None = None) -> NetSuiteError:
    """A business-rule refusal (400 USER_ERROR), worded as NetSuite words record errors."""
    return NetSuiteError(400, "USER_ERROR", ACCESS_PREFIX + detail, path=path)


def invalid_reference(field_value: str, field: str, path: str) -> NetSuiteError:
    return user_error(f"You have entered an Invalid Field Value {field_value} for the following field: {field}", path)


def not_found() -> NetSuiteError:
    return NetSuiteError(
        404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record instance ID."
    )


class NetSuiteVendor:
    """Errors raised by the shared server base (auth, faults, concurrency, routing) in NetSuite's shapes."""

    def unauthorized(self, req: Request) -> Response:
        return envelope(
            401,
            [
                {
                    "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite "
                    "UI at Setup > Users/Roles > User Management > View Login Audit Trail.",
                    "o:errorCode": "INVALID_LOGIN",
                }
            ],
        )

    def rate_limited(self, req: Request, retry_after: int) -> Response:
        # NetSuite sends no Retry-After on its concurrency 429s; clients back off on their own
        return envelope(
            429,
            [
                {
                    "detail": "Concurrent request limit exceeded. Request blocked.",
                    "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
                }
            ],
        )

    def server_error(self, req: Request) -> Response:
        return envelope(
            500,
            [{"detail": "An unexpected error occurred. Error ID: q2c-sandbox", "o:errorCode": "UNEXPECTED_ERROR"}],
        )

    def not_found(self, req: Request) -> Response:
        return envelope(
            404,
            [{"detail": f"Invalid URL path: {req.path}", "o:errorCode": "NONEXISTENT_ID", "o:errorUrl": req.path}],
        )

    def bad_request(self, req: Request, message: str) -> Response:
        if message == "method not allowed":
            return envelope(
                405,
                [
                    {
                        "detail": f"HTTP method {req.method} is not allowed for this resource.",
                        "o:errorCode": "INVALID_METHOD",
                    }
                ],
            )
        return envelope(400, [{"detail": message, "o:errorCode": "INVALID_CONTENT"}])
