# 2025-03-14 08:21:37 by RouterOS 7.18
# software id = 7KQ2-ZP4X
#
# model = RBD52G-5HacD2HnD
# serial number = HCB08A1C2D3E
/interface bridge
add admin-mac=48:8F:5A:11:22:33 auto-mac=no comment=defconf name=bridge
/interface wireless
set [ find default-name=wlan1 ] band=2ghz-b/g/n channel-width=20/40mhz-XX \
    country=vietnam disabled=no distance=indoors frequency=auto installation=\
    indoor mode=ap-bridge ssid="Nha Van Hoa Khu 3" wireless-protocol=802.11
/interface 6to4
add !keepalive name=6to4-he remote-address=203.0.113.77
/interface gre
add allow-fast-path=no ipsec-secret=greTq81wLm0xPsk !keepalive local-address=\
    192.0.2.10 name=gre-station remote-address=198.51.100.20
/interface wireguard
add comment="camfleet: tunnel to the station" listen-port=51820 mtu=1420 \
    name=wg-station private-key="8ODrKsuA5aLmo7SQbZONkG0Pdk+Uxw+uwOrJsdFK6Po="
/interface wireless security-profiles
set [ find default=yes ] supplicant-identity=MikroTik
add authentication-types=wpa2-psk eap-methods="" mode=dynamic-keys name=\
    nha-van-hoa supplicant-identity="" wpa2-pre-shared-key=\
    "Hoa sen no trong ao, mat khau wifi cua nha van hoa khu 3 nam 2025"
/interface wireguard peers
add allowed-address=10.77.0.1/32,10.20.0.0/24 comment="camfleet: station" \
    endpoint-address=203.0.113.10 endpoint-port=51820 interface=wg-station \
    name=station persistent-keepalive=25s preshared-key=\
    "0Z45wkmxDwtkO6T/XTe8KK9WHUqfnULhyfX1hvOmx3w=" public-key=\
    "wAA38Y8RGRTqisDZYOJ1oDL48waFHwhNZrGm2tgfjxI="
/ip address
add address=192.168.88.1/24 comment=defconf interface=bridge network=\
    192.168.88.0
add address=10.77.1.2/24 comment="camfleet: tunnel address" interface=\
    wg-station network=10.77.1.0
/ip route
add blackhole comment="old camera net, keep dark" disabled=no distance=250 \
    dst-address=10.99.0.0/16 routing-table=main suppress-hw-offload=no
add comment="camfleet: station LAN through the tunnel" disabled=no distance=1 \
    dst-address=10.20.0.0/24 gateway=wg-station routing-table=main scope=30 \
    suppress-hw-offload=no target-scope=10
/ipv6 route
add blackhole disabled=no distance=250 dst-address=2001:db8:77::/48
/interface l2tp-server server
set enabled=yes ipsec-secret=L2tpPsk-Khu3-2025 use-ipsec=required
/ip ipsec identity
add peer=station secret=IpsecId-Secret-7Fq2
/ppp secret
add name=ky-thuat password="Ky thuat vien 2025!" profile=default-encryption \
    service=l2tp
/routing table
add disabled=no fib name=via-tunnel
/snmp community
set [ find default=yes ] disabled=yes
add addresses=10.20.0.0/24 name=comm-Snmp9dKhu3
/radius
add address=10.20.0.9 secret=RadiusShared-4471 service=login
/system identity
set name=lr-01-01
/system script
add dont-require-permissions=no name=upload-backup owner=admin policy=\
    ftp,read,write,policy,test source=\
    "/system backup save name=bk\r\n/tool fetch upload=yes url=\"sftp://10.20.\
    0.5/bk.backup\" user=backup password=\"ScriptPass-66Tn\" src-path=bk.backu\
    p\r\n"
/tool e-mail
set from=cam@example.vn password=MailPass-Kq9z port=587 server=\
    smtp.example.vn tls=starttls user=cam@example.vn
