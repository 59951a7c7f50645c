"""`{% nav_urls %}`: the layout's links and static files, looked up once, follow the settings that decide
them (the cache is cleared when a test or a deployment changes them)."""

from accounts.templatetags.pages_nav import nav_urls


def test_static_files_follow_a_changed_static_url(settings):
    assert nav_urls()["css_site"].endswith("css/site.css")
    settings.STATIC_URL = "/assets/"
    assert nav_urls()["css_site"] == "/assets/css/site.css"


def test_the_layout_uses_the_looked_up_files(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nav_user", password="x" * 12))
    html = client.get("/people/").content.decode()
    for attr in ("icon", "css_site", "css_notifications", "js_badge"):
        assert f'"{nav_urls()[attr]}"' in html
