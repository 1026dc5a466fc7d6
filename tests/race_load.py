"""One process of the follow/delete load: ``python -m tests.race_load ROLE USER_ID ITERATIONS SEED``.

``poster`` posts as USER_ID and deletes one post in seven; ``follower`` follows and
unfollows the authors at random. Several of each, in separate processes on one
database, reproduce the load under which deleted posts came back through a follow's
backfill (see tests/test_races_processes.py).
"""

import os
import random
import sys


def main(role: str, user_id: int, iterations: int, seed: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from tests.models import Follow, Post, User

    chance = random.Random(seed)
    user = User.objects.get(pk=user_id)
    if role == "poster":
        mine = []
        for n in range(iterations):
            mine.append(Post.objects.create(author=user, body=f"{user.username} {n}"))
            if n % 7 == 6:
                mine.pop(chance.randrange(len(mine))).delete()
    else:
        authors = list(User.objects.filter(username__startswith="author"))
        for _ in range(iterations):
            author = chance.choice(authors)
            follow = Follow.objects.filter(follower=user, followee=author).first()
            if follow is None:
                Follow.objects.create(follower=user, followee=author)
            else:
                follow.delete()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
