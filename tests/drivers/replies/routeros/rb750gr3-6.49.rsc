# mar/31/2022 19:11:04 by RouterOS 6.49.4
# software id = 9XQ4-LM2T
#
# model = RB750Gr3
# serial number = 8A6C0B1E2F3D
/interface eoip
add !keepalive mac-address=02:95:9B:95:E8:7B name=eoip-tram-2 remote-address=\
    198.51.100.44 tunnel-id=10
/interface pptp-client
add connect-to=vpn-khu-pho-3.example.net disabled=no name=pptp-out password=\
    "Pptp mat khau rat dai 2022" user=lr-03-02
/interface l2tp-client
add allow=mschap2 connect-to=198.51.100.7 disabled=no ipsec-secret=\
    L2tpClientPsk-2022 name=l2tp-station password=L2tpPass-p4Rw use-ipsec=yes \
    user=lr-03-02
/interface wireless security-profiles
set [ find default=yes ] supplicant-identity=MikroTik
add authentication-types=wpa-psk,wpa2-psk eap-methods="" \
    management-protection=allowed mode=dynamic-keys name=cams \
    supplicant-identity="" wpa-pre-shared-key=WpaOld-Key-2022 \
    wpa2-pre-shared-key=Wpa2-Key-ChoMoi-2022
/ip hotspot user
add name=guest password=Guest-Pass-81
/ip ipsec peer
add address=198.51.100.7/32 name=station
/ip ipsec identity
add peer=station secret=V6-Ipsec-Secret-Zz
/ip route
add comment="old camera net, keep dark" distance=250 dst-address=10.99.0.0/16 \
    type=blackhole
add distance=1 gateway=192.168.1.1
/routing bgp peer
add name=station remote-address=10.77.0.1 remote-as=65000 tcp-md5-key=\
    BgpMd5-v6-771
/routing ospf interface
add authentication=md5 authentication-key=OspfKey-v6-12 interface=l2tp-station
/snmp community
set [ find default=yes ] addresses=10.20.0.0/24 name=v6-Community-4Tq
/system identity
set name=lr-03-02
/tool romon
set enabled=yes secrets=Romon-Secret-A,Romon-Secret-B
