"""MikroTik RouterOS link routers: the console language (:mod:`.text`), configuration as data
(:mod:`.config`), the netmiko driver that applies it (:mod:`.driver`) and the asyncssh reader the
exporter's link probe uses (:mod:`.monitor`).

Only :mod:`.driver` imports netmiko; nothing is imported here, so the exporter and the renderers
that need only the language never load it.
"""
