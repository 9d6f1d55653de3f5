app_name = "bugsink_ingest"
urlpatterns = []
