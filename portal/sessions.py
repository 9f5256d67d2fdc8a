"""Sessions in the database, exactly as Django's ``db`` engine (same table, same rows), except that
a request's session is read with one statement written once: every logged-in request reads its
session, and building that query through the ORM cost more than running it."""

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        model = self.model
        connection = connections[router.db_for_read(model)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {connection.ops.quote_name(model._meta.db_table)}"
                " WHERE session_key = %s AND expire_date > %s",
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:  # unknown or expired: a new session, as Django's engine does
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
