"""The `edgewise` command: typer commands over the REST API, plus the server and the demo."""
