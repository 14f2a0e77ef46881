// TLS for the control channel: the server's and the client's tls.Config
// (mutual TLS, client certificates required, TLS 1.2 or newer), `ramona tls
// init DIR` which writes a CA, a server and a client certificate with their
// keys.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

func loadCAPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca %s: %s", path, pathErrText(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("ca %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// tlsMaterial loads a side's certificate with its key, and the CA that
// the other side's certificate must be signed by.
func tlsMaterial(u SocketURI) (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(u.Cert, u.Key)
	if err != nil {
		return cert, nil, fmt.Errorf("%s: cert %s / key %s: %v", u, u.Cert, u.Key, err)
	}
	pool, err := loadCAPool(u.CA)
	if err != nil {
		return cert, nil, fmt.Errorf("%s: %v", u, err)
	}
	return cert, pool, nil
}

// serverTLSConfig: the server proves itself with cert/key and accepts only
// clients whose certificate the CA signed.
func serverTLSConfig(u SocketURI) (*tls.Config, error) {
	cert, pool, err := tlsMaterial(u)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// clientTLSConfig: the client shows its certificate and trusts only a server
// certificate the CA signed for the host it dials.
func clientTLSConfig(u SocketURI) (*tls.Config, error) {
	cert, pool, err := tlsMaterial(u)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(u.Addr)
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ServerName:   host,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// tlsPeer completes the handshake and names the client by its certificate.
func tlsPeer(conn *tls.Conn) (string, error) {
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := conn.Handshake(); err != nil {
		return "", fmt.Errorf("TLS handshake with %s: %v", conn.RemoteAddr(), err)
	}
	conn.SetDeadline(time.Time{})
	name := "?"
	if certs := conn.ConnectionState().PeerCertificates; len(certs) > 0 {
		name = certs[0].Subject.CommonName
	}
	return fmt.Sprintf("%s cert %q", conn.RemoteAddr(), name), nil
}

// tlsInit writes ca.pem, server.pem, server-key.pem, client.pem and
// client-key.pem (and the CA's key, to sign more clients) into dir.
func tlsInit(dir string, hosts []string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for _, name := range []string{"ca.pem", "ca-key.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return nil, fmt.Errorf("%s already exists; remove the old files or choose another directory", filepath.Join(dir, name))
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "ramona control CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	issue := func(cn string, usage x509.ExtKeyUsage, names []string) ([]byte, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.AddDate(5, 0, 0),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		for _, h := range names {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		return der, key, err
	}
	serverDER, serverKey, err := issue("ramona server", x509.ExtKeyUsageServerAuth, hosts)
	if err != nil {
		return nil, err
	}
	clientDER, clientKey, err := issue("ramona client", x509.ExtKeyUsageClientAuth, nil)
	if err != nil {
		return nil, err
	}
	var written []string
	write := func(name, block string, der []byte, mode os.FileMode) error {
		// O_EXCL (and openSafe's O_NOFOLLOW): a file or link that appeared
		// at the name since the check above is an error, never written through.
		path := filepath.Join(dir, name)
		f, err := openSafe(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return err
		}
		_, err = f.Write(pem.EncodeToMemory(&pem.Block{Type: block, Bytes: der}))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte { der, _ := x509.MarshalECPrivateKey(k); return der }
	for _, f := range []struct {
		name, block string
		der         []byte
		mode        os.FileMode
	}{
		{"ca.pem", "CERTIFICATE", caDER, 0o644},
		{"ca-key.pem", "EC PRIVATE KEY", keyDER(caKey), 0o600},
		{"server.pem", "CERTIFICATE", serverDER, 0o644},
		{"server-key.pem", "EC PRIVATE KEY", keyDER(serverKey), 0o600},
		{"client.pem", "CERTIFICATE", clientDER, 0o644},
		{"client-key.pem", "EC PRIVATE KEY", keyDER(clientKey), 0o600},
	} {
		if err := write(f.name, f.block, f.der, f.mode); err != nil {
			return written, err
		}
	}
	return written, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
