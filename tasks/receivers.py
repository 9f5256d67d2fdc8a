"""Keep the open forms' lines in step with the assignments: a measure or annual work point
assigned to a unit joins its editable forms of open periods when the assignment is made (never
when someone merely opens a form)."""

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from tasks import services
from tasks.models import Assignment, WorkPoint


@receiver(post_save, sender=Assignment, dispatch_uid="tasks.assignment_saved")
def assignment_saved(sender, instance, raw=False, **kwargs):
    if raw:  # loading fixtures
        return
    services.sync_open_forms(None if instance.all_members else [instance.unit_id])


@receiver(m2m_changed, sender=WorkPoint.units.through, dispatch_uid="tasks.work_point_units")
def work_point_units_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action != "post_add":
        return
    # reverse: unit.work_points.add(point), the unit is ``instance``
    services.sync_open_forms([instance.pk] if reverse else list(pk_set))
