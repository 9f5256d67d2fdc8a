from django.urls import path

from targets import views

app_name = "targets"

urlpatterns = [
    path("plan/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("plan/initiatives/<str:code>/", views.InitiativeDetailView.as_view(), name="initiative_detail"),
    path("targets/", views.TargetListView.as_view(), name="target_list"),
    path("targets/<str:code>/", views.TargetDetailView.as_view(), name="target_detail"),
    path("units/", views.UnitListView.as_view(), name="unit_list"),
    path("units/<slug:code>/", views.UnitDetailView.as_view(), name="unit_detail"),
]
