"""`{% load people %}`: `{% person user %}` (display name linked to the profile, then @username) and
`{{ user|display_name }}`. See accounts/people.py."""

from django import template

from accounts import people

register = template.Library()
register.filter("display_name", people.display_name)
register.filter("short_name", people.short_name)


@register.simple_tag
def person(user):
    return people.person_html(user)


@register.filter
def profile_url(user):
    """`{{ user|profile_url }}`: the user's profile, as `{% url 'profile' user.username %}` without a reversal."""
    return people.profile_url(user.get_username())
