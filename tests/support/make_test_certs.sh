#!/bin/sh
# Generates the TLS test PKI into the directory given as the only argument:
#   ca.{crt,key}              test CA
#   server.{crt,key}          DNS:server.local, URI:spiffe://cluster.local/ns/default/sa/server
#   client.{crt,key}          URI:spiffe://cluster.local/ns/default/sa/client
#   expired_client.{crt,key}  same SAN as client, valid only on 2020-01-01
#   wrong_san.{crt,key}       DNS:wrong.local, URI:spiffe://cluster.local/ns/other/sa/intruder
#   other_ca.{crt,key}        an unrelated CA
#   other_ca_client.{crt,key} client's SAN, signed by other_ca
# Leaves are valid for 825 days from now. Idempotent: a complete directory (marked by
# .complete) is left alone. EC P-256 keys and one openssl run per step (about 10 ms
# each) keep a full run near a tenth of a second.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTPUT_DIR" >&2
  exit 2
fi
out=$1
mkdir -p "$out"
[ -f "$out/.complete" ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

spiffe=spiffe://cluster.local/ns

# new_ca NAME CN: key and self-signed certificate in one run.
new_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1.key" \
    -subj "/O=Remora Test/CN=$2" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$work/$1.crt" 2>/dev/null
}

# new_leaf NAME CA CN SAN [STARTDATE ENDDATE]
new_leaf() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1.key" \
    -subj "/O=Remora Test/CN=$3" -out "$work/$1.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' \
    >"$work/$1.ext"
  printf 'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$4" >>"$work/$1.ext"
  if [ $# -eq 6 ]; then
    # `openssl x509 -req` cannot backdate in OpenSSL 3.0; `openssl ca` can.
    mkdir -p "$work/db"
    : >"$work/db/index.txt"
    echo 1000 >"$work/db/serial"
    printf '%s\n' "[ca]" "default_ca = test_ca" "[test_ca]" \
      "database = $work/db/index.txt" "new_certs_dir = $work/db" "serial = $work/db/serial" \
      "default_md = sha256" "policy = any" "unique_subject = no" "copy_extensions = none" \
      "[any]" "organizationName = optional" "commonName = supplied" >"$work/ca.cnf"
    openssl ca -batch -notext -config "$work/ca.cnf" -cert "$work/$2.crt" -keyfile "$work/$2.key" \
      -in "$work/$1.csr" -startdate "$5" -enddate "$6" -extfile "$work/$1.ext" \
      -out "$work/$1.crt" 2>/dev/null
  else
    openssl x509 -req -in "$work/$1.csr" -CA "$work/$2.crt" -CAkey "$work/$2.key" \
      -CAcreateserial -days 825 -sha256 -extfile "$work/$1.ext" -out "$work/$1.crt" 2>/dev/null
  fi
}

new_ca ca "Remora Test CA"
new_ca other_ca "Unrelated Test CA"
new_leaf server ca server.local "DNS:server.local,URI:$spiffe/default/sa/server"
new_leaf client ca client "URI:$spiffe/default/sa/client"
new_leaf expired_client ca expired-client "URI:$spiffe/default/sa/client" \
  20200101000000Z 20200102000000Z
new_leaf wrong_san ca wrong.local "DNS:wrong.local,URI:$spiffe/other/sa/intruder"
new_leaf other_ca_client other_ca client "URI:$spiffe/default/sa/client"

for name in ca other_ca server client expired_client wrong_san other_ca_client; do
  cp "$work/$name.crt" "$work/$name.key" "$out/"
done
touch "$out/.complete"
