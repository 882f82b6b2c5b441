"""What stops the IB adapter for good: errors no retry can heal, each saying what the operator must fix."""

from __future__ import annotations


class IbSetupError(ConnectionError):
    """The gateway, the login or the contract is not what trading needs; retrying cannot change it."""


class ClientIdsInUse(IbSetupError):
    """Every client id we may use is taken by another API client of this gateway."""


class LiveAccountRefused(IbSetupError):
    """The gateway is logged in to a live account and the host was not started with --live."""


class ServerVersionTooOld(IbSetupError):
    """The gateway speaks an API version older than the client needs."""


class ContractNotListed(IbSetupError):
    """IB lists no tradable month of the configured future (unknown symbol, wrong exchange, all expired)."""


class PortMoved(IbSetupError):
    """TWS reset its API socket port (1300): the host must be restarted on the new one."""


class MonthsMixed(IbSetupError):
    """The account holds the future in more than one month: not a state this host ever makes."""
