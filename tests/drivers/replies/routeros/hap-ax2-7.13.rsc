# 2023-12-19 16:02:11 by RouterOS 7.13
# software id = R2LN-5WQH
#
# model = C52iG-5HaxD2HaxD
# serial number = HF2093K1L2M3
/interface bridge
add admin-mac=78:9A:18:AA:BB:CC auto-mac=no comment=defconf name=bridge
/interface wifi
set [ find default-name=wifi1 ] configuration.country=Vietnam \
    configuration.mode=ap configuration.ssid="Truong hoc Cho Moi" disabled=no \
    security.authentication-types=wpa2-psk,wpa3-psk security.passphrase=\
    "Mat khau wifi truong hoc 2023"
/interface wireguard
add listen-port=13231 mtu=1420 name=wg-station private-key=\
    "llxvG8S8Ape2DXkEsRUQQktZthZn//zOK7Japg/8fbs="
/interface wifi security
add authentication-types=wpa2-psk name=cameras passphrase=CamWifi-Pass-2023
/interface wireguard peers
add allowed-address=10.77.0.1/32 endpoint-address=203.0.113.10 endpoint-port=\
    13231 interface=wg-station preshared-key=\
    "dNa8+UD7uHhalUHnVLkSZD+aM1feP4mQNDmOuTz8fgk=" public-key=\
    "jF2SGp7q5B96xB3H3znuiwg3bw9GH6kTAq/YY83m/1M="
/interface ovpn-client
add certificate=none cipher=aes256-cbc connect-to=vpn.example.vn mac-address=\
    FE:11:22:33:44:55 name=ovpn-out1 password=OvpnPass-7x2 user=hap-ax2
/interface sstp-client
add connect-to=sstp.example.vn disabled=no name=sstp-out1 password=\
    "Sstp pass 2023" profile=default-encryption user=hap-ax2
/interface gre
add allow-fast-path=no ipsec-secret=GreAx2-Psk-19 !keepalive name=gre-tram \
    remote-address=198.51.100.30
/ip route
add blackhole disabled=no distance=250 dst-address=10.99.0.0/16 \
    routing-table=main suppress-hw-offload=no
/routing bgp connection
add as=65001 local.role=ibgp name=to-station remote.address=10.77.0.1 \
    remote.as=65000 tcp-md5-key=BgpMd5-v7-992
/routing ospf instance
add disabled=no name=default-v2
/routing ospf area
add disabled=no instance=default-v2 name=backbone-v2
/routing ospf interface-template
add area=backbone-v2 auth=md5 auth-id=1 auth-key=OspfKey-v7-31 disabled=no \
    interfaces=wg-station passive
/snmp community
set [ find default=yes ] disabled=yes
add authentication-password=SnmpAuth-v3-55 authentication-protocol=SHA1 \
    encryption-password=SnmpPriv-v3-66 encryption-protocol=AES name=monitor \
    security=private
/system identity
set name=truong-hoc-cho-moi
/user-manager router
add address=127.0.0.1 name=local shared-secret=UmShared-Secret-13
