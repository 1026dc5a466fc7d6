"""The Django REST framework face of django-timak (``pip install django-timak[rest]``).

Only this package imports ``rest_framework``: the core and the other faces run
without it. ``pagination`` pages a timeline over (score, id) cursors, ``views`` serves
hydrated rows and notification feeds, ``serializers`` shapes notification groups,
``renderers`` answers Activity Streams 2.0 and ``exceptions`` maps the store's and the
client's failures onto DRF's errors.
"""
