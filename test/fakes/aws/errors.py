"""The errors the AWS stand-in answers before (or instead of) a service
handler, in each protocol's own codes: authentication failures,
incomplete signatures, validation errors, unknown operations, and the
service's real throttling and internal errors used by injected faults."""

from . import protocol as P
from .protocol import ApiError


THROTTLE = {
    'organizations': ('TooManyRequestsException', 400, 'AWS Organizations can\'t complete your request because '
                      'another request is already in progress. Try again later.'),
    'support': ('ThrottlingException', 400, 'Rate exceeded'),
    'service-quotas': ('TooManyRequestsException', 400, 'Rate exceeded'),
    'sts': ('Throttling', 400, 'Rate exceeded'),
    'iam': ('Throttling', 400, 'Rate exceeded'),
    'route53': ('Throttling', 400, 'Rate exceeded'),
    'ec2': ('RequestLimitExceeded', 503, 'Request limit exceeded.'),
    's3': ('SlowDown', 503, 'Please reduce your request rate.'),
    'account': ('TooManyRequestsException', 429, 'Rate exceeded'),
}

INTERNAL = {
    'organizations': ('ServiceException', 500, 'AWS Organizations can\'t complete your request because it '
                      'encountered an internal error. Try again later.'),
    'support': ('InternalServerError', 500, 'An internal server error occurred.'),
    'service-quotas': ('ServiceException', 500, 'Something went wrong.'),
    'sts': ('InternalFailure', 500, 'An internal error occurred.'),
    'iam': ('ServiceFailure', 500, 'The request processing has failed because of an unknown error.'),
    'route53': ('InternalFailure', 500, 'An internal error occurred.'),
    'ec2': ('InternalError', 500, 'An internal error has occurred'),
    's3': ('InternalError', 500, 'We encountered an internal error. Please try again.'),
    'account': ('InternalServerException', 500, 'An internal error occurred.'),
}

MSG_INVALID_TOKEN = 'The security token included in the request is invalid.'
MSG_BAD_SIG = ('The request signature we calculated does not match the signature you provided. Check your AWS '
               'Secret Access Key and signing method. Consult the service documentation for details.')
MSG_EXPIRED = 'The security token included in the request is expired'


def auth_error(service, kind, detail=''):
    """kind: unknown | badsig | expired | skew | missing | badtoken."""
    proto = P.protocol_of(service)
    if service == 's3':
        return {
            'unknown': ApiError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our '
                                'records.', 403),
            'badsig': ApiError('SignatureDoesNotMatch', 'The request signature we calculated does not match the '
                               'signature you provided. Check your key and signing method.', 403),
            'expired': ApiError('ExpiredToken', 'The provided token has expired.', 400),
            'skew': ApiError('RequestTimeTooSkewed', 'The difference between the request time and the current '
                             'time is too large.', 403),
            'missing': ApiError('AccessDenied', 'Access Denied', 403),
            'badtoken': ApiError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400),
        }[kind]
    if proto == 'ec2':
        return {
            'unknown': ApiError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401),
            'badtoken': ApiError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401),
            'badsig': ApiError('SignatureDoesNotMatch', MSG_BAD_SIG, 403),
            'expired': ApiError('RequestExpired', 'Request has expired.', 400),
            'skew': ApiError('RequestExpired', f'Request has expired. {detail}'.strip(), 400),
            'missing': ApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 401),
        }[kind]
    if proto in ('query', 'rest-xml'):
        return {
            'unknown': ApiError('InvalidClientTokenId', MSG_INVALID_TOKEN, 403),
            'badtoken': ApiError('InvalidClientTokenId', MSG_INVALID_TOKEN, 403),
            'badsig': ApiError('SignatureDoesNotMatch', MSG_BAD_SIG, 403),
            'expired': ApiError('ExpiredToken', MSG_EXPIRED, 403 if service != 'sts' else 400),
            'skew': ApiError('SignatureDoesNotMatch', f'Signature expired: {detail}', 403),
            'missing': ApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403),
        }[kind]
    st = 403 if proto == 'rest-json' else 400
    return {
        'unknown': ApiError('UnrecognizedClientException', MSG_INVALID_TOKEN, st),
        'badtoken': ApiError('UnrecognizedClientException', MSG_INVALID_TOKEN, st),
        'badsig': ApiError('InvalidSignatureException', MSG_BAD_SIG, st),
        'expired': ApiError('ExpiredTokenException', MSG_EXPIRED, st),
        'skew': ApiError('InvalidSignatureException', f'Signature expired: {detail}', st),
        'missing': ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token', st),
    }[kind]


def incomplete_signature(service):
    proto = P.protocol_of(service)
    msg = 'Authorization header requires \'Credential\', \'SignedHeaders\' and \'Signature\' parameters.'
    if service == 's3':
        return ApiError('AuthorizationHeaderMalformed', 'The authorization header is malformed.', 400)
    if proto in ('json', 'rest-json'):
        return ApiError('IncompleteSignatureException', msg, 400 if proto == 'json' else 403)
    return ApiError('IncompleteSignature', msg, 400 if proto != 'ec2' else 401)


def validation_error(service, lines, missing=None):
    proto = P.protocol_of(service)
    n = len(lines)
    if proto == 'ec2':
        if missing:
            return ApiError('MissingParameter', f'The request must contain the parameter {missing}')
        return ApiError('InvalidParameterValue', '; '.join(lines))
    msg = f'{n} validation error{"s" if n != 1 else ""} detected: ' + '; '.join(lines)
    if proto == 'query':
        return ApiError('ValidationError', msg)
    if service == 's3':
        return ApiError('InvalidArgument', msg)
    if service == 'route53':
        return ApiError('InvalidInput', msg)
    return ApiError('ValidationException', msg)


def unknown_operation(service, name, implemented=False):
    proto = P.protocol_of(service)
    why = 'is not implemented by the AWS fake' if implemented else 'is not a valid operation'
    if proto == 'json':
        return ApiError('UnknownOperationException', f'Operation {name} {why}.')
    if proto == 'rest-json':
        return ApiError('UnknownOperationException', f'Operation {name} {why}.', 404)
    if proto in ('query', 'ec2'):
        return ApiError('InvalidAction', f'The action {name} {why} for this web service.')
    if service == 's3':
        return ApiError('NotImplemented', f'A header or operation you provided ({name}) {why}.', 501)
    return ApiError('InvalidAction', f'Operation {name} {why}.', 400)
