#!/usr/bin/env bash
# Notify script for the Tari console wallet that runs the payment server's hot
# wallet. It reports received and confirmed payments to the server through
# taritools, signed with the "TPS Hot Wallet" profile.
#
# Install: copy to $HOME/.taritools/tps_notify.sh, make it executable, and set
# it as the console wallet's notify script. Create the profile first:
#   taritools profile add --name "TPS Hot Wallet" --seed-words-stdin --server https://your-server
#
# Arguments from the wallet for received / confirmation / mined events. The
# console wallet since 2025 (minotari_console_wallet notifier, args_from_complete)
# passes the payment id fifth, as its Display form, e.g.
# "sender_address(12…), sender_one_sided(true), fee(25), type(PaymentToOther), data(1001)":
#  $1 event ("received", "confirmation", "mined", ...)   $2 amount
#  $3 tx id   $4 message (memo)   $5 payment id   $6 source address
#  $7 destination address   $8 status  $9 excess  $10 public nonce
#  $11 signature  $12 confirmations  $13 direction ("Inbound")
# Earlier wallets passed the source address fifth and the payment id last
# ($12 direction, $13 payment id); the script tells them apart by where the
# direction is.
# "sent" and pending "cancelled" events carry fewer arguments and are ignored.

# taritools from $TARITOOLS_PATH, else from PATH, else where `go install` puts it.
if [ -n "$TARITOOLS_PATH" ]; then
  BIN=$TARITOOLS_PATH/taritools
else
  BIN=$(command -v taritools || echo "${GOBIN:-$HOME/go/bin}/taritools")
fi
PROFILE="TPS Hot Wallet"
LOG=${TPS_NOTIFY_LOG:-$HOME/.taritools/tps_notify.log}

register_received_payment() {
  case "${13}" in
    Inbound|Outbound|Unknown|inbound|outbound|unknown)
      "$BIN" wallet received --profile "$PROFILE" --amount "$2" --txid "$3" --memo "$4" --sender "$6" --payment_id "$5"
      ;;
    *)
      "$BIN" wallet received --profile "$PROFILE" --amount "$2" --txid "$3" --memo "$4" --sender "$5" --payment_id "${13}"
      ;;
  esac
}

register_confirmation() {
  "$BIN" wallet confirmed --profile "$PROFILE" --txid "$3"
}

mkdir -p "$(dirname "$LOG")"
echo "$(date -u +%FT%TZ) $*" >> "$LOG"

if [ "$#" -ge 13 ]; then
  case "$1" in
    received)
      register_received_payment "$@"
      ;;
    confirmation)
      # The received event may have been missed (wallet offline); the server
      # ignores a txid it already knows.
      register_received_payment "$@"
      sleep "${TPS_CONFIRM_DELAY:-2}"
      register_confirmation "$@"
      ;;
    *)
      echo "Unhandled event: $*" >> "$LOG"
      ;;
  esac
else
  echo "Unhandled short event: $*" >> "$LOG"
fi
