# ruff: noqa: A005 - the tests of edgewise.site mirror its name
