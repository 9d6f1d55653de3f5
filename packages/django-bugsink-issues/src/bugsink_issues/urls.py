app_name = "bugsink_issues"
urlpatterns = []
