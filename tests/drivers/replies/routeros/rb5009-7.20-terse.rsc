# 2025-11-21 21:13:02 by RouterOS 7.20
# software id = T3MX-8RKV
#
# model = RB5009UPr+S+
# serial number = HCY0A1B2C3D
/caps-man security add authentication-types=wpa2-psk comment="2GHz/5GHz Security" encryption=aes-ccm group-encryption=aes-ccm group-key-update=1h name=private passphrase=CapsmanPass-2025
/interface l2tp-client add allow=mschap2 connect-to=198.51.100.14 disabled=no max-mru=1360 max-mtu=1360 name=chr-tunnel password=L2tpTerse-Pass-3 profile=default user=vpn-remote
/interface l2tp-server server set authentication=mschap2 enabled=yes ipsec-secret=L2tpSrvTerse-Psk max-mru=1418 max-mtu=1418
/routing table add comment="tunnel swing" fib name=rmark-vpn-redirect
/routing ospf area add area-id=0.0.0.3 default-cost=10 disabled=no instance=routes-inject name=space-vpn no-summaries type=stub
/routing ospf interface-template add area=space-vpn disabled=no networks=192.168.90.0/24 passive
/ip ipsec identity add comment=to-CHR-PSK peer=CHR-internal remote-id=ignore secret=IpsecTerse-Secret
/ip route add blackhole comment=OSPF-LOCAL-AREA-blackhole disabled=no distance=200 dst-address=192.168.97.0/29 gateway=chr-tunnel routing-table=main scope=30
/ip route add disabled=no distance=1 dst-address=0.0.0.0/0 gateway=198.51.100.1 routing-table=main scope=30 suppress-hw-offload=no target-scope=10
/ppp secret add comment="used by \$SECRET" name=TELEGRAM_TOKEN password=1234567890:AAE-telegram-token-fake profile=null service=async
/system identity set name=station-core
/tool e-mail set certificate-verification=no from=station@example.vn password=TerseMail-Pass-8 port=587 server=smtp.example.vn tls=yes user=station@example.vn
