package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/tari"
)

type preflightResult struct {
	serverKey tari.SecretKey
}

// devKeyFile holds generated development keys under the data directory.
const devKeyFile = "dev-jwt-keys.json"

type devKeys struct {
	SigningKey      string `json:"TPG_JWT_SIGNING_KEY"`
	VerificationKey string `json:"TPG_JWT_VERIFICATION_KEY"`
}

// preflight checks the configuration before anything starts (D23): the JWT
// key pair (or development keys when none is configured) and the payment
// address. Every problem is reported with what to set. TPG_SKIP_PREFLIGHT
// downgrades a bad payment address to a warning; bad keys always fail.
func preflight(cfg config.Config, log *slog.Logger) (preflightResult, error) {
	var res preflightResult
	var problems []string

	switch {
	case cfg.JWTSigningKey == "" && cfg.JWTVerificationKey == "":
		k, path, err := loadOrCreateDevKeys(cfg.DataDir)
		if err != nil {
			problems = append(problems, "no TPG_JWT_SIGNING_KEY/TPG_JWT_VERIFICATION_KEY and the development keys could not be written: "+err.Error())
			break
		}
		res.serverKey = k
		log.Warn("🚨️🚨️🚨️ The JWT signing key has not been set. I'm using a development key. DO NOT operate on production like this since you may lose access to data. 🚨️🚨️🚨️")
		log.Warn("🚨️🚨️🚨️ The JWT signing key for this server was written to " + path + ". If this is a production instance, you are doing it wrong! Set the TPG_JWT_SIGNING_KEY and TPG_JWT_VERIFICATION_KEY environment variables instead. 🚨️🚨️🚨️")
	case cfg.JWTSigningKey == "":
		problems = append(problems, "TPG_JWT_VERIFICATION_KEY is set but TPG_JWT_SIGNING_KEY is not: set both (or neither, for development keys)")
	case cfg.JWTVerificationKey == "":
		problems = append(problems, "TPG_JWT_SIGNING_KEY is set but TPG_JWT_VERIFICATION_KEY is not: set it to the signing key's public key")
	default:
		k, err := tari.ParseSecretKey(cfg.JWTSigningKey)
		if err != nil {
			problems = append(problems, "TPG_JWT_SIGNING_KEY is not a valid 64-hex Tari secret key")
			break
		}
		pub, err := tari.ParsePublicKey(cfg.JWTVerificationKey)
		if err != nil {
			problems = append(problems, "TPG_JWT_VERIFICATION_KEY is not a valid 64-hex Tari public key")
			break
		}
		if k.PublicKey().Hex() != pub.Hex() {
			problems = append(problems, "TPG_JWT_VERIFICATION_KEY does not match TPG_JWT_SIGNING_KEY: its public key is "+k.PublicKey().Hex())
			break
		}
		res.serverKey = k
	}

	if _, err := tari.ParseAddress(cfg.PaymentWalletAddress); err != nil {
		msg := "TPG_PAYMENT_WALLET_ADDRESS is not a valid Tari address: " + err.Error()
		if cfg.SkipPreflight {
			log.Warn(msg + "; TPG_SKIP_PREFLIGHT is set, using the donation address")
		} else {
			problems = append(problems, msg)
		}
	} else if !cfg.PaymentWalletAddressSet {
		log.Warn("TPG_PAYMENT_WALLET_ADDRESS is not set: claims tell customers to pay the Tari donation address " + config.DonationAddress + ". Set it to your hot wallet's address.")
	}

	if cfg.ShopifyHMACSecretMissing() {
		log.Warn("🚨️ TPG_SHOPIFY_HMAC_SECRET is not set: every /shopify request is answered 503 until you set it (or set TPG_SHOPIFY_HMAC_CHECKS=false, for testing only).")
	} else if !cfg.ShopifyHMACChecks {
		log.Warn("🚨️ TPG_SHOPIFY_HMAC_CHECKS is off: anyone who can reach /shopify can submit orders.")
	}
	if cfg.UseXForwardedFor || cfg.UseForwarded {
		log.Warn("🚨️ Client IPs are taken from forwarding headers: make sure your proxy overwrites them, they are trivially spoofed.")
	}
	if len(problems) > 0 {
		return res, errors.New(strings.Join(problems, "\n  "))
	}
	return res, nil
}

// loadOrCreateDevKeys reuses the development key pair in dataDir, or makes
// one, written with owner-only permissions so tokens survive restarts.
func loadOrCreateDevKeys(dataDir string) (tari.SecretKey, string, error) {
	path := filepath.Join(dataDir, devKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		var dk devKeys
		if err := json.Unmarshal(b, &dk); err == nil {
			if k, err := tari.ParseSecretKey(dk.SigningKey); err == nil {
				return k, path, nil
			}
		}
		return tari.SecretKey{}, path, fmt.Errorf("%s exists but holds no valid key; delete it", path)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return tari.SecretKey{}, path, err
	}
	k := tari.GenerateSecretKey()
	b, _ := json.MarshalIndent(devKeys{SigningKey: k.Hex(), VerificationKey: k.PublicKey().Hex()}, "", "  ")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return tari.SecretKey{}, path, err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return tari.SecretKey{}, path, err
	}
	return k, path, f.Close()
}
