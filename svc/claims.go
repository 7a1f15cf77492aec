package svc

func (l *loader) checkClaims() {}
