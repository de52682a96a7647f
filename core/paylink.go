package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
)

// PayLinkTokenLen is the length of a pay-link token in hex characters.
const PayLinkTokenLen = 32

// PayLinkToken is the token of an order's pay link: the first 32 lowercase
// hex characters of HMAC-SHA256(secret, order_id). It is what Shopify's
// Liquid computes with {{ order.id | hmac_sha256: "<secret>" | slice: 0, 32 }},
// so only the shop (and this server) can make a link.
func PayLinkToken(secret, orderID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(orderID))
	return hex.EncodeToString(m.Sum(nil))[:PayLinkTokenLen]
}

// PayLinkTokenValid compares token with the order's token in constant time.
func PayLinkTokenValid(secret, orderID, token string) bool {
	want := PayLinkToken(secret, orderID)
	return len(token) == len(want) && subtle.ConstantTimeCompare([]byte(token), []byte(want)) == 1
}

// PayLinkPath is the path of an order's pay page: /pay/{order_id}/{token},
// the order id escaped as one path segment.
func PayLinkPath(secret, orderID string) string {
	return "/pay/" + url.PathEscape(orderID) + "/" + PayLinkToken(secret, orderID)
}
