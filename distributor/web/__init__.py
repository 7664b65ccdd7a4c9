"""The web service (extra `web`): `app.create_app` mounts the signed webhook (`hooks`), the
operator endpoints (`ops`) and the admin UI (`admin`). `signing` and `hook_settings` need no web
stack, so `distributor hook` works with the core package alone."""
