"""The browser portal: server-rendered pages for providers, nurses, physicians and members.

Views call the domain services and selectors (authorizations, criteria, notifications) and
show their DomainError messages; they hold no workflow rules of their own (STYLE §2). The
only records this app owns are the provider's unfinished TAR drafts (`TarDraft`).

Translations: Django i18n. The Spanish catalogue is `portal/locale/es/LC_MESSAGES/django.po`;
`make install` compiles it with `msgfmt` (Debian package `gettext`) into the ignored `.mo`.
"""
