"""Testing utilities for projects that use django-timak.

``django_timak.testing.riak`` runs a Riak KV stand-in on loopback (one node, a cluster,
TLS, Riak security) so a project can test its Riak code paths without a Riak; see its
docstring. The library itself never imports this package.
"""
