from django.urls import include, path

urlpatterns = [path("errors/", include("bugsink_ingest.urls"))]
