"""Citizen notification inbox ("Thông báo").

Bus handlers (:mod:`lienthong.notifications.handlers`) turn events that concern a citizen into
Vietnamese inbox entries (:class:`~lienthong.notifications.models.Notification`); the citizen reads
them through ``/api/v1/me/notifications`` and the ``/thong-bao`` page.

Only the inbox is built. Pushing a notification to an external channel (VNeID app push, SMS,
e-mail) is a separate delivery adapter that does not exist yet: nothing here pretends to send.
"""
