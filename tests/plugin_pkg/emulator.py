"""The pigeon API in the sandbox: post, list, delete, and who a loft is."""

from __future__ import annotations

from distributor.sandbox.emulator import Emulator, Reply, Request, Route


class PigeonEmulator(Emulator):
    """Keeps pigeons per loft; a bearer token is required and an image is too."""

    platform = "pigeon"

    def routes(self) -> list[Route]:
        return [
            Route("POST", r"/v1/pigeons", self.create, "create"),
            Route("GET", r"/v1/pigeons", self.list_posts, "lookup"),
            Route("DELETE", r"/v1/pigeons/(?P<post_id>\d+)", self.delete, "delete"),
            Route("GET", r"/v1/lofts/(?P<loft>[\w-]+)", self.loft, "verify"),
        ]

    def _authorised(self, req: Request) -> bool:
        return req.headers.get("authorization", "").startswith("Bearer ")

    def create(self, req: Request) -> Reply:
        if not self._authorised(req):
            return Reply(401, {"error": "no token"})
        body = req.json()
        if not isinstance(body, dict) or not body.get("image_url") or not body.get("text"):
            return Reply(400, {"error": "text and image_url are required"})
        post = self.state.record("pigeon", str(body.get("loft")), str(body["text"]), body)
        return Reply(201, {"id": post.id})

    def list_posts(self, req: Request) -> Reply:
        loft = (req.query.get("loft") or [""])[0]
        posts = [p for p in self.state.posts("pigeon") if p.account == loft]
        return Reply(200, {"data": [{"id": p.id, "key": p.data.get("key")} for p in posts]})

    def delete(self, req: Request, post_id: str) -> Reply:
        return Reply(204) if self.state.delete("pigeon", post_id) else Reply(404, {"error": "gone"})

    def loft(self, req: Request, loft: str) -> Reply:
        return Reply(200, {"name": f"Loft {loft}"})
