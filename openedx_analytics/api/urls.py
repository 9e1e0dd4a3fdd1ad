"""REST API versions."""
urlpatterns: list = []
